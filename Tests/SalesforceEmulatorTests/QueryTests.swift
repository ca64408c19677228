import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@Suite struct QueryTests {
    func ids(_ session: Session, _ soql: String, operation: String = "query") throws -> [String] {
        let id = try session.run(soql, operation: operation)
        return try session.pages(id).flatMap { CSV.rows($0.text).dropFirst().map { $0[0] } }
    }

    @Test func queryHidesSoftDeletedRowsAndQueryAllShowsThem() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 30 }
        defer { try? emulator.shutdownBlocking() }
        let all = emulator.org.ids("Contact", includeDeleted: true)
        emulator.org.softDelete("Contact", id: all[3])
        emulator.org.hardDelete("Contact", id: all[4])
        let session = try Session(emulator)
        let visible = try ids(session, "SELECT Id FROM Contact")
        #expect(visible.count == 28 && !visible.contains(all[3]) && !visible.contains(all[4]))
        let withDeleted = try session.run("SELECT Id, IsDeleted FROM Contact", operation: "queryAll")
        let rows = try session.pages(withDeleted).flatMap { CSV.rows($0.text).dropFirst() }
        #expect(rows.count == 29)
        #expect(rows.first { $0[0] == all[3] }?[1] == "true")
        #expect(!rows.contains { $0[0] == all[4] })
        emulator.org.undelete("Contact", id: all[3])
        #expect(try ids(session, "SELECT Id FROM Contact").contains(all[3]))
    }

    @Test func whereOnSystemModstampFindsOnlyChangedRows() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 200 }
        defer { try? emulator.shutdownBlocking() }
        let all = emulator.org.ids("Contact", includeDeleted: false)
        let before = try #require(emulator.org.truth("Contact", fields: ["SystemModstamp"], includeDeleted: false).map { $0[0]! }.max())
        emulator.org.update("Contact", id: all[10], fields: ["Title": "Changed"])
        emulator.org.softDelete("Contact", id: all[20])
        let session = try Session(emulator)
        // All literal forms: Z, millis, offset.
        let watermark = String(before.prefix(19))
        for literal in ["\(watermark)Z", "\(watermark).000Z", "\(watermark)+00:00"] {
            #expect(try ids(session, "SELECT Id FROM Contact WHERE SystemModstamp > \(literal)") == [all[10]])
            #expect(try ids(session, "select id from contact where systemmodstamp > \(literal)", operation: "queryAll") == [all[10], all[20]])
        }
        let stamps = emulator.org.truth("Contact", fields: ["SystemModstamp"], includeDeleted: true).map { $0[0]! }
        #expect(stamps[10] > before && stamps[20] > stamps[10])
        // Window shape used by incremental syncs.
        let window = try ids(session, "SELECT Id FROM Contact WHERE SystemModstamp >= \(stamps[10]) AND SystemModstamp < \(stamps[20])", operation: "queryAll")
        #expect(window == [all[10]])
    }

    @Test func canonicalHeadersRelationshipsAndTypedFilters() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 50 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let job = try session.run("SELECT id, lastname, account.name, ACCOUNTID FROM contact WHERE AccountId != null LIMIT 5")
        let rows = try session.pages(job).flatMap { CSV.rows($0.text) }
        #expect(rows.first == ["Id", "LastName", "Account.Name", "AccountId"])
        #expect(rows.count == 6)
        let accounts = Dictionary(uniqueKeysWithValues: emulator.org.truth("Account", fields: ["Id", "Name"], includeDeleted: false).map { ($0[0]!, $0[1]!) })
        for row in rows.dropFirst() { #expect(accounts[row[3]] == row[2]) }

        let vips = try ids(session, "SELECT Id FROM Contact WHERE Is_VIP__c = true OR (Visit_Count__c >= 500000000 AND Birthdate < 1970-01-01)")
        let truth = emulator.org.truth("Contact", fields: ["Id", "Is_VIP__c", "Visit_Count__c", "Birthdate"], includeDeleted: false)
        let expected = truth.filter { row in
            row[1] == "true" || ((Double(row[2] ?? "") ?? -1) >= 500_000_000 && (row[3].map { $0 < "1970-01-01" } ?? false))
        }.map { $0[0]! }
        #expect(vips == expected)
        let ordered = try session.run("SELECT Id, Score__c FROM Contact WHERE Score__c != null ORDER BY Score__c DESC LIMIT 3")
        let scores = try session.pages(ordered).flatMap { CSV.rows($0.text).dropFirst().map { Double($0[1])! } }
        #expect(scores.count == 3 && scores == scores.sorted(by: >))
        let quoted = emulator.org.insert("Contact", fields: ["LastName": "O'Hara"])
        #expect(try ids(session, #"SELECT Id FROM Contact WHERE LastName = 'o\'hara'"#) == [quoted])
    }

    @Test(arguments: [
        ("SELECT Id, Foo FROM Contact", "INVALID_FIELD", "No such column 'Foo' on entity 'Contact'"),
        ("SELECT Id FROM Nope", "INVALID_TYPE", "sObject type 'Nope' is not supported"),
        ("SELECT Id, MailingAddress FROM Contact", "API_ERROR", "Selecting compound data not supported in Bulk Query"),
        ("SELECT FIELDS(ALL) FROM Contact", "API_ERROR", "Selecting compound data not supported in Bulk Query"),
        ("SELECT COUNT() FROM Contact", "API_ERROR", "Aggregate"),
        ("SELECT LeadSource FROM Contact GROUP BY LeadSource", "API_ERROR", "GROUP BY"),
        ("SELECT Id, (SELECT Id FROM Contacts) FROM Account", "API_ERROR", "Aggregate Relationships not supported in Bulk Query"),
        ("SELECT Id FROM Contact OFFSET 5", "MALFORMED_QUERY", "OFFSET"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Contact WHERE SystemModstamp > '2024-01-01T00:00:00Z'", "INVALID_FIELD", "must be of type dateTime"),
        ("SELECT Id Contact", "MALFORMED_QUERY", "unexpected token"),
        ("SELECT Id FROM Contact WHERE LastName = 'open", "MALFORMED_QUERY", "ERROR at Row:1:Column:"),
    ])
    func badSOQLIsRejectedAtCreation(soql: String, code: String, message: String) async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let response = try Session(emulator).create(soql)
        #expect(response.status == 400)
        #expect(response.errorCode() == code)
        #expect(response.errorMessage()?.contains(message) == true, "\(response.text)")
    }

    @Test func removedFieldDisappearsFromDescribeAndSOQL() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        #expect(try session.create("SELECT Id, Fax FROM Contact").status == 200)
        emulator.org.removeField("Contact", field: "Fax")
        #expect(try session.create("SELECT Id, Fax FROM Contact").errorCode() == "INVALID_FIELD")
        let names = (try session.get("/sobjects/Contact/describe").object()["fields"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(!names.contains("Fax") && names.contains("Phone"))
    }

    @Test func resultsAreASnapshotTakenAtJobCreation() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20; $0.jobProcessingDelay = .milliseconds(300) }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let all = emulator.org.ids("Contact", includeDeleted: false)
        let job = try session.create("SELECT Id, Title FROM Contact").object()["id"] as? String ?? ""
        emulator.org.update("Contact", id: all[0], fields: ["Title": "After the job"])
        emulator.org.hardDelete("Contact", id: all[1])
        _ = try session.wait(job)
        let rows = try session.pages(job).flatMap { CSV.rows($0.text).dropFirst() }
        #expect(rows.count == 20)
        #expect(rows[0][1] != "After the job")
    }

    /// `Id = …` and `Id IN (…)` pick their records by index instead of scanning the object (verify checks keys in
    /// batches of 200 against millions of records): the answer must stay what the whole filter selects.
    @Test func filtersOnIdAnswerAsAScanWould() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 60 }
        defer { try? emulator.shutdownBlocking() }
        let all = emulator.org.ids("Contact", includeDeleted: true)
        let account = try #require(emulator.org.ids("Account", includeDeleted: false).first)
        emulator.org.softDelete("Contact", id: all[2])
        emulator.org.hardDelete("Contact", id: all[3])
        emulator.org.hide("Contact", ids: [all[4]])
        emulator.org.update("Contact", id: all[5], fields: ["LastName": "Zed"])
        let session = try Session(emulator)
        let list = [1, 2, 3, 4, 5, 40].map { "'\(all[$0])'" }.joined(separator: ", ") + ", '\(account)'"
        #expect(try ids(session, "SELECT Id FROM Contact WHERE Id IN (\(list))") == [all[1], all[5], all[40]])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE Id IN (\(list))", operation: "queryAll") == [all[1], all[2], all[5], all[40]])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE Id IN (\(list)) AND LastName = 'Zed'") == [all[5]])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE LastName = 'Zed' AND Id IN (\(list))") == [all[5]])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE Id = '\(all[40])' OR Id IN ('\(all[1])')") == [all[1], all[40]])
        // OR with a condition that is not on Id cannot be narrowed to candidates: every record is considered.
        let zed = try ids(session, "SELECT Id FROM Contact WHERE Id = '\(all[40])' OR LastName = 'Zed'")
        #expect(zed == [all[5], all[40]])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE Id NOT IN (\(list))").count == 60 - 3 - 3)
    }
}
