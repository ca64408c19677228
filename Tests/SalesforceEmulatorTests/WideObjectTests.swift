import Foundation
import SalesforceEmulator
import TestSupport
import Testing

/// `Wide__c`: an object too wide for one query, read in parts that each carry Id and SystemModstamp.
@Suite struct WideObjectTests {
    @Test func aWideObjectIsRefusedWholeAndReadableInParts() async throws {
        let emulator = try await TestEmulator.start {
            $0.contactCount = 5
            $0.wideObjectFields = 600
            $0.wideObjectRecords = 40
            $0.maxQueryWeight = 400
        }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let describe = try session.get("/sobjects/Wide__c/describe").object()
        let fields = describe["fields"] as? [[String: Any]] ?? []
        let custom = fields.filter { ($0["name"] as? String)?.hasSuffix("__c") == true }
        #expect(describe["custom"] as? Bool == true && custom.count == 600)
        #expect(custom.filter { $0["calculated"] as? Bool == true }.count == 60)
        let names = custom.compactMap { $0["name"] as? String }
        // 540 fields + 60 formulas × 10 = 1140 > 400: refused whole.
        let whole = try session.create("SELECT Id, SystemModstamp, \(names.joined(separator: ", ")) FROM Wide__c")
        #expect(whole.status == 400 && whole.errorCode() == "QUERY_TOO_COMPLICATED")
        // Parts of 100 fields (at most 10 formulas each: 190 + 2) pass and join on Id.
        var byId: [String: Int] = [:]
        for part in stride(from: 0, to: names.count, by: 100) {
            let soql = "SELECT Id, SystemModstamp, \(names[part..<min(part + 100, names.count)].joined(separator: ", ")) FROM Wide__c"
            let job = try session.run(soql)
            let rows = try session.pages(job).flatMap { CSV.rows($0.text).dropFirst() }
            for row in rows { byId[row[0], default: 0] += row.count }
        }
        #expect(byId.count == 40 && byId.values.allSatisfy { $0 == 600 + 12 })
        #expect(emulator.org.ids("Wide__c", includeDeleted: false).count == 40)
    }

    @Test func withoutConfigurationThereIsNoWideObject() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let objects = (try session.get("/sobjects").object()["sobjects"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(objects == ["Contact", "Account", "Opportunity", "User"])
        #expect(try session.create("SELECT Id FROM Wide__c").errorCode() == "INVALID_TYPE")
    }
}
