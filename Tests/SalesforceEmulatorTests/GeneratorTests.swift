import CivilTime
import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@testable import SalesforceEmulator

@Suite struct GeneratorTests {
    static let fields = ["Id", "LastName", "FirstName", "Name", "Email", "Description", "AccountId", "Account.Name",
                         "Score__c", "Birthdate", "SystemModstamp", "Display_Label__c"]

    @Test func sameSeedSameData() async throws {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = 300
        let a = Org(configuration: configuration)
        let b = Org(configuration: configuration)
        #expect(a.truth("Contact", fields: Self.fields, includeDeleted: true) == b.truth("Contact", fields: Self.fields, includeDeleted: true))
        configuration.seed = 7
        let c = Org(configuration: configuration)
        #expect(a.truth("Contact", fields: Self.fields, includeDeleted: true) != c.truth("Contact", fields: Self.fields, includeDeleted: true))
    }

    @Test func idsAreSalesforceShapedAndRoundTrip() {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = 100
        let org = Org(configuration: configuration)
        for (object, prefix, count) in [("Contact", "003", 100), ("Account", "001", 11), ("Opportunity", "006", 20)] {
            let ids = org.ids(object, includeDeleted: false)
            #expect(ids.count == count)
            #expect(Set(ids).count == count)
            #expect(ids.allSatisfy { $0.count == 18 && $0.hasPrefix(prefix) })
            for (i, id) in ids.enumerated() { #expect(SalesforceId.parse(id)?.index == i) }
        }
    }

    @Test func baseModstampsArePastDistinctAndIncreasing() {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = 500
        let org = Org(configuration: configuration)
        let rows = org.truth("Contact", fields: ["CreatedDate", "LastModifiedDate", "SystemModstamp"], includeDeleted: false)
        let stamps = rows.map { $0[2]! }
        #expect(stamps == stamps.sorted() && Set(stamps).count == stamps.count)
        #expect(stamps.last! < "2021-01-01")
        #expect(rows.allSatisfy { $0[0]! <= $0[1]! && $0[1]! <= $0[2]! })
    }

    @Test func dataIsNastyButValid() {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = 2_000
        let org = Org(configuration: configuration)
        let descriptions = org.truth("Contact", fields: ["Description"], includeDeleted: false).map { $0[0] }
        #expect(descriptions.contains { $0 == nil })
        #expect(descriptions.contains { $0?.contains("\n") == true })
        #expect(descriptions.contains { $0?.contains("\r\n") == true })
        #expect(descriptions.contains { $0?.contains("\"") == true })
        #expect(descriptions.contains { $0?.contains("\u{0}") == true })
        #expect(descriptions.contains { $0?.unicodeScalars.contains { $0.properties.isEmoji && $0.value > 0x2000 } == true })
        #expect(descriptions.contains { ($0?.utf8.count ?? 0) > 1_000 })
        let emails = org.truth("Contact", fields: ["Email"], includeDeleted: false).compactMap { $0[0] }
        #expect(emails.contains { !$0.contains("@") })
        // Every datetime parses and every date is a real date.
        let dates = org.truth("Contact", fields: ["Birthdate", "Last_Survey__c"], includeDeleted: false)
        #expect(dates.allSatisfy { row in row[0].map { Timestamps.parseDate($0) != nil } ?? true })
        #expect(dates.allSatisfy { row in row[1].map { Timestamps.parseDatetime($0) != nil } ?? true })
    }

    @Test func mutationStampsAreStrictlyIncreasingAndCalculatedChangesDoNotMoveThem() {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = 10
        let org = Org(configuration: configuration)
        let ids = org.ids("Contact", includeDeleted: false)
        for id in ids { org.update("Contact", id: id, fields: ["Title": "x"]) }
        let inserted = org.insert("Contact", fields: ["LastName": "New"])
        let stamps = org.truth("Contact", fields: ["SystemModstamp"], includeDeleted: false).map { $0[0]! }
        #expect(stamps.count == 11)
        for k in 1..<stamps.count { #expect(stamps[k] > stamps[k - 1]) }
        org.setCalculated("Contact", id: inserted, field: "Display_Label__c", value: "pinned")
        let after = org.truth("Contact", fields: ["SystemModstamp", "Display_Label__c", "Name", "IsDeleted"], includeDeleted: false).last!
        #expect(after == [stamps.last!, "pinned", "New", "false"])
    }

    @Test func randomRoundIsDeterministic() {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = 200
        let a = Org(configuration: configuration)
        let b = Org(configuration: configuration)
        for org in [a, b] {
            org.randomRound("Contact", seed: 9, inserts: 5, updates: 20, softDeletes: 4, undeletes: 1, hardDeletes: 3)
        }
        let fields = ["Id", "IsDeleted", "Title", "Phone", "Description"]
        #expect(a.truth("Contact", fields: fields, includeDeleted: true) == b.truth("Contact", fields: fields, includeDeleted: true))
        #expect(a.ids("Contact", includeDeleted: true).count == 202)
        #expect(a.ids("Contact", includeDeleted: false).count < 202)
    }

    @Test func rendersManyRowsInPagesOnDemand() throws {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = 20_000
        let snapshot = Org(configuration: configuration).snapshot()
        let (query, table) = try SOQLParser.parse("SELECT Id, Name, Description, SystemModstamp FROM Contact", snapshot: snapshot)
        let results = ResultMaterializer.materialize(
            Selection(query: query, table: table, snapshot: snapshot, includeDeleted: false),
            writer: CSVWriter(columnDelimiter: "COMMA", lineEnding: "LF"))
        #expect(results.totalRows == 20_000)
        var ends: [Int] = []
        var offset = 0
        while offset < results.totalRows {
            offset = results.render(from: offset, maxRecords: 7_000, maxBytes: .max, total: results.totalRows).end
            ends.append(offset)
        }
        #expect(ends == [7_000, 14_000, 20_000])
        let slice = results.render(from: 6_990, maxRecords: 20, maxBytes: .max, total: results.totalRows).csv
        let bounds = ResultMaterializer.rowBounds(slice, headerBytes: results.header.count, lineEnding: [10])
        #expect(bounds.count == 20)
    }
}
