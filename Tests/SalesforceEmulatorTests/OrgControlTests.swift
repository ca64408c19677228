import Foundation
@testable import SalesforceEmulator
import TestSupport
import Testing

/// `/limits/recordCount`, a sandbox refresh (new org Id), and records hidden from the integration user.
@Suite struct OrgControlTests {
    static func admin(_ emulator: TestEmulator, _ method: String, _ path: String, _ body: String = "{}") throws -> CurlResponse {
        try Curl.request(method, "\(emulator.baseURL)/__emulator/\(path)", headers: ["Content-Type": "application/json"], body: body)
    }

    @Test func recordCountCountsLiveRecordsPerObject() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 30 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        emulator.org.softDelete("Contact", id: ids[0])
        emulator.org.hardDelete("Contact", id: ids[1])
        emulator.org.insert("Contact", fields: ["LastName": "New"])
        let session = try Session(emulator)
        let response = try session.get("/limits/recordCount?sObjects=Contact")
        #expect(response.status == 200)
        #expect(response.text == #"{"sObjects":[{"count":29,"name":"Contact"}]}"#)
        let several = try session.get("/limits/recordCount?sObjects=Account,Nope,Contact").object()
        let names = (several["sObjects"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names == ["Account", "Contact"])
        let all = try session.get("/limits/recordCount").object()
        #expect((all["sObjects"] as? [Any])?.count == 4)
    }

    @Test func sandboxRefreshKeepsTheDataAndChangesTheOrgId() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 12 }
        defer { try? emulator.shutdownBlocking() }
        let before = try Session(emulator)
        func orgId(fromIdentityURL url: String?) -> String? { url?.split(separator: "/").dropLast().last.map(String.init) }
        let firstInfo = try Curl.request("GET", "\(emulator.baseURL)/services/oauth2/userinfo", headers: before.auth).object()
        let firstOrg = try #require(firstInfo["organization_id"] as? String)
        #expect(firstOrg.count == 18 && firstOrg.hasPrefix("00D"))
        #expect(orgId(fromIdentityURL: firstInfo["sub"] as? String) == firstOrg)

        let refresh = try Self.admin(emulator, "POST", "org/refresh")
        let newOrg = try #require(try refresh.object()["organizationId"] as? String)
        #expect(newOrg != firstOrg && newOrg.hasPrefix("00D") && newOrg.count == 18)
        // The old org's sessions end; a new login names the new org everywhere.
        #expect(try before.get("/limits").status == 401)
        let token = try Session.login(emulator.baseURL).object()
        #expect(orgId(fromIdentityURL: token["id"] as? String) == newOrg)
        #expect((token["access_token"] as? String)?.hasPrefix(String(newOrg.prefix(15)) + "!") == true)
        let after = try Session(emulator)
        let identity = try Curl.request("GET", "\(emulator.baseURL)/id/\(newOrg)/005", headers: after.auth).object()
        #expect(identity["organization_id"] as? String == newOrg)
        #expect(try after.restQuery("SELECT COUNT() FROM Contact").object()["totalSize"] as? Int == 12)
        #expect(emulator.organizationId == newOrg)
        #expect(emulator.emulator.refreshOrg() != newOrg)
        #expect(try after.get("/limits").status == 401)
    }

    @Test func hiddenRecordsVanishFromQueriesWithoutBeingDeletedAndComeBackUnchanged() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        let session = try Session(emulator)
        let t0 = emulator.org.clock.now()
        emulator.org.update("Contact", id: ids[3], fields: ["Title": "seen"])
        let stamp = { emulator.org.truth("Contact", fields: ["Id", "SystemModstamp"], includeDeleted: true).first { $0[0] == ids[3] }?[1] }
        let before = stamp()
        #expect(try Self.admin(emulator, "POST", "records/Contact/hide", #"{"ids":["\#(ids[3])","\#(ids[4])"]}"#).status == 200)
        #expect(try session.restQuery("SELECT COUNT() FROM Contact", all: true).object()["totalSize"] as? Int == 18)
        let visible = try session.restQuery("SELECT Id FROM Contact").object()["records"] as? [[String: Any]] ?? []
        #expect(!visible.contains { $0["Id"] as? String == ids[3] } && visible.count == 18)
        let job = try session.run("SELECT Id FROM Contact", operation: "queryAll")
        #expect(try session.pages(job).flatMap { CSV.rows($0.text).dropFirst() }.count == 18)
        let window = ReplicationTests.window(t0 - 3_600_000, t0 + 120_000)
        #expect(ReplicationTests.deletedIds(try session.get("/sobjects/Contact/deleted/?\(window)").object()).isEmpty)
        #expect((try session.get("/sobjects/Contact/updated/?\(window)").object()["ids"] as? [String]) == [])
        #expect(try Self.admin(emulator, "POST", "records/Contact/unhide", #"{"ids":["\#(ids[3])","\#(ids[4])"]}"#).status == 200)
        #expect(try session.restQuery("SELECT COUNT() FROM Contact").object()["totalSize"] as? Int == 20)
        #expect(stamp() == before)
    }
}
