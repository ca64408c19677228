import Foundation
import SalesforceEmulator
import TestSupport
import Testing

extension Session {
    /// `GET /query/?q=…` (or `/queryAll/`) with the SOQL percent-encoded as simple-salesforce sends it.
    func restQuery(_ soql: String, all: Bool = false) throws -> CurlResponse {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = soql.addingPercentEncoding(withAllowedCharacters: allowed) ?? soql
        return try get("/\(all ? "queryAll" : "query")/?q=\(encoded)")
    }
}

@Suite struct AggregateQueryTests {
    @Test func countWithoutFieldAnswersTotalSizeAlone() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 30 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        emulator.org.softDelete("Contact", id: ids[0])
        emulator.org.hide("Contact", ids: [ids[1]])
        let session = try Session(emulator)
        let response = try session.restQuery("SELECT COUNT() FROM Contact")
        #expect(response.status == 200)
        #expect(response.text == #"{"totalSize":28,"done":true,"records":[]}"#)
        #expect(try session.restQuery("SELECT COUNT() FROM Contact", all: true).object()["totalSize"] as? Int == 29)
        #expect(try session.restQuery("SELECT COUNT() FROM Contact LIMIT 5").object()["totalSize"] as? Int == 5)
        // Bulk API 2.0 still refuses it.
        #expect(try session.create("SELECT COUNT() FROM Contact").errorCode() == "API_ERROR")
    }

    @Test func groupByDateFunctionsWithAliasesAndExprNames() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 40 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        for id in ids.prefix(3) { emulator.org.update("Contact", id: id, fields: ["Title": "moved"]) }
        let session = try Session(emulator)
        let soql = "SELECT CALENDAR_YEAR(SystemModstamp) y, CALENDAR_MONTH(SystemModstamp), COUNT(Id) FROM Contact "
            + "GROUP BY CALENDAR_YEAR(SystemModstamp), CALENDAR_MONTH(SystemModstamp)"
        let body = try session.restQuery(soql).object()
        let records = try #require(body["records"] as? [[String: Any]])
        #expect(body["totalSize"] as? Int == 2 && body["done"] as? Bool == true)
        #expect(records.allSatisfy { ($0["attributes"] as? [String: Any])?.keys.sorted() == ["type"] })
        #expect((records[0]["attributes"] as? [String: Any])?["type"] as? String == "AggregateResult")
        // Base records share one month of 2020; the updated ones moved to the emulator's "now".
        let stamps = emulator.org.truth("Contact", fields: ["SystemModstamp"], includeDeleted: false).map { $0[0]! }
        let expected = Dictionary(grouping: stamps) { "\($0.prefix(4))-\(Int($0.dropFirst(5).prefix(2))!)" }.mapValues(\.count)
        var seen: [String: Int] = [:]
        for record in records {
            #expect(Set(record.keys) == ["attributes", "y", "expr0", "expr1"])
            seen["\(record["y"] as! Int)-\(record["expr0"] as! Int)"] = record["expr1"] as? Int
        }
        #expect(seen == expected)
        let raw = try session.restQuery(soql).text
        #expect(raw.contains(#"{"attributes":{"type":"AggregateResult"},"y":2020,"expr0":"#))
    }

    /// Counting keeps a number per group and computes a modstamp's day key once per run of records on the same
    /// day: records moved to "now" between others must still land in their own day, and an aggregate that needs
    /// values (MAX) still sees every record of its group.
    @Test func dayGroupsOverInterleavedModstampsCountEveryRecord() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 100_000 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        for id in stride(from: 0, to: ids.count, by: 997).map({ ids[$0] }) {
            emulator.org.update("Contact", id: id, fields: ["LastName": "Zz moved"])
        }
        let session = try Session(emulator)
        let truth = emulator.org.truth("Contact", fields: ["SystemModstamp", "LastName"], includeDeleted: false)
        let expected = Dictionary(grouping: truth) { String($0[0]!.prefix(10)) }
        let body = try session.restQuery(
            "SELECT DAY_ONLY(SystemModstamp) d, COUNT(Id) n, MAX(LastName) m FROM Contact GROUP BY DAY_ONLY(SystemModstamp)"
        ).object()
        let records = try #require(body["records"] as? [[String: Any]])
        #expect(records.count == expected.count && expected.count >= 3)
        for record in records {
            let day = try #require(expected[record["d"] as? String ?? ""])
            #expect(record["n"] as? Int == day.count)
            #expect(record["m"] as? String == day.compactMap { $0[1] }.max { $0.lowercased() < $1.lowercased() })
        }
        let counts = try session.restQuery(
            "SELECT CALENDAR_MONTH(SystemModstamp) m, COUNT(Id) n FROM Contact GROUP BY CALENDAR_MONTH(SystemModstamp)"
        ).object()
        #expect((counts["records"] as? [[String: Any]])?.compactMap { $0["n"] as? Int }.reduce(0, +) == truth.count)
    }

    @Test func groupedFieldsDayOnlyWindowsAndOrdering() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 60 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let truth = emulator.org.truth("Contact", fields: ["LeadSource", "SystemModstamp"], includeDeleted: false)
        let bySource = try session.restQuery(
            "SELECT LeadSource, COUNT(Id) n FROM Contact GROUP BY LeadSource ORDER BY COUNT(Id) DESC").object()
        let rows = try #require(bySource["records"] as? [[String: Any]])
        let expected = Dictionary(grouping: truth) { $0[0] ?? "" }.mapValues(\.count)
        #expect(Dictionary(uniqueKeysWithValues: rows.map { (($0["LeadSource"] as? String) ?? "", $0["n"] as! Int) }) == expected)
        let counts = rows.map { $0["n"] as! Int }
        #expect(counts == counts.sorted(by: >))
        // A SystemModstamp window, by day: records 10..<20 are seconds apart within one day.
        let low = truth[10][1]!, high = truth[20][1]!
        let window = try session.restQuery(
            "SELECT DAY_ONLY(SystemModstamp) d, COUNT(Id) FROM Contact WHERE SystemModstamp >= \(low) AND SystemModstamp < \(high) GROUP BY DAY_ONLY(SystemModstamp)"
        ).object()
        let days = try #require(window["records"] as? [[String: Any]])
        #expect(days.count == 1 && days[0]["d"] as? String == String(low.prefix(10)) && days[0]["expr0"] as? Int == 10)
        let total = try session.restQuery("SELECT COUNT(Id) FROM Contact WHERE SystemModstamp >= \(low)").object()
        #expect(((total["records"] as? [[String: Any]])?.first?["expr0"] as? Int) == 50)
    }

    @Test(arguments: [
        ("SELECT LastName, COUNT(Id) FROM Contact GROUP BY LeadSource", "MALFORMED_QUERY", "Field must be grouped or aggregated"),
        ("SELECT COUNT(), LastName FROM Contact", "MALFORMED_QUERY", "COUNT()"),
        ("SELECT SUM(LastName) FROM Contact", "INVALID_FIELD", "does not support aggregate operator SUM"),
        ("SELECT CALENDAR_YEAR(LastName), COUNT(Id) FROM Contact GROUP BY CALENDAR_YEAR(LastName)", "INVALID_FIELD", "CALENDAR_YEAR"),
        ("SELECT COUNT(Nope) FROM Contact", "INVALID_FIELD", "No such column 'Nope'"),
    ])
    func badAggregatesAreRejected(soql: String, code: String, message: String) async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let response = try Session(emulator).restQuery(soql)
        #expect(response.status == 400)
        #expect(response.errorCode() == code)
        #expect(response.errorMessage()?.contains(message) == true, "\(response.text)")
    }

    @Test func moreGroupsThanOneBatchAreRefusedUnlessLimited() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 2001 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let refused = try session.restQuery("SELECT Id, COUNT(Name) FROM Contact GROUP BY Id")
        #expect(refused.status == 400 && refused.errorCode() == "EXCEEDED_ID_LIMIT")
        #expect(refused.errorMessage()?.hasPrefix("Aggregate query does not support queryMore()") == true)
        let limited = try session.restQuery("SELECT Id, COUNT(Name) FROM Contact GROUP BY Id LIMIT 2000").object()
        #expect((limited["records"] as? [Any])?.count == 2000 && limited["nextRecordsUrl"] == nil)
    }

    @Test func countOverTooManyRecordsTimesOutAndANarrowerWindowDoesNot() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 50; $0.aggregateTimeoutRecords = 20 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let timedOut = try session.restQuery("SELECT COUNT() FROM Contact")
        #expect(timedOut.status == 400 && timedOut.errorCode() == "QUERY_TIMEOUT")
        #expect(timedOut.errorMessage() == "Your query request was running for too long.")
        let stamp = emulator.org.truth("Contact", fields: ["SystemModstamp"], includeDeleted: false)[35][0]!
        let narrow = try session.restQuery("SELECT COUNT() FROM Contact WHERE SystemModstamp >= \(stamp)")
        #expect(try narrow.object()["totalSize"] as? Int == 15)
        // Plain record queries are not affected.
        #expect(try session.restQuery("SELECT Id FROM Contact").status == 200)
    }
}
