import Foundation
@testable import SalesforceEmulator
import TestSupport
import Testing

/// Wire formats (Bulk pretty JSON, REST compact, error key order) and what an org refuses: too complicated or too
/// long queries, objects the Bulk API cannot read, exhausted daily allowances, a connection cut after N pages.
@Suite struct LimitsAndRefusalsTests {
    @Test func bulkBodiesArePrettyAndRESTBodiesCompact() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let created = try session.create("SELECT Id FROM Contact")
        #expect(created.text.hasPrefix("{\n  \"id\" : \"750"), "\(created.text)")
        #expect(created.text.contains("\n  \"createdDate\" : \"") && created.text.hasSuffix("\n}"))
        let stamp = try #require(try created.object()["createdDate"] as? String)
        #expect(stamp.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$"#, options: .regularExpression) != nil)
        let bulkError = try session.get("/jobs/query/750000000000000AAA")
        #expect(bulkError.text == "[ {\n  \"errorCode\" : \"NOT_FOUND\",\n  \"message\" : \"The requested resource does not exist\"\n} ]")
        let list = try session.get("/jobs/query").text
        #expect(list.contains("\"records\" : [ {\n    \"id\" : \"750"), "\(list)")
        let restError = try session.restQuery("SELECT Nope FROM Contact")
        #expect(restError.text.hasPrefix(#"[{"message":""#) && restError.text.hasSuffix(#""errorCode":"INVALID_FIELD"}]"#))
        #expect(try session.get("/limits").text.hasPrefix(#"{"DailyApiRequests":{"Max":"#))
    }

    @Test func prettyPrintOnRequestAndJobModstampsThatMoveWithTheState() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let pretty = try session.get("/query/?q=SELECT+COUNT()+FROM+Contact", headers: ["X-PrettyPrint": "1"])
        #expect(pretty.text == "{\n  \"totalSize\" : 5,\n  \"done\" : true,\n  \"records\" : [ ]\n}")
        emulator.faults.slowInProgress(polls: 5, jobs: 1)
        let job = try #require(try session.create("SELECT Id FROM Contact").object()["id"] as? String)
        try await Task.sleep(for: .milliseconds(50))
        let info = try session.get("/jobs/query/\(job)").object()
        #expect(info["state"] as? String == "InProgress")
        #expect((info["systemModstamp"] as? String ?? "") > (info["createdDate"] as? String ?? ""))
    }

    @Test func heavyQueriesAreTooComplicatedAndLongOnesMalformed() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5; $0.maxQueryWeight = 12; $0.formulaFieldWeight = 10 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        // Display_Label__c is a formula: 10 + 3 > 12.
        let heavy = "SELECT Id, Display_Label__c, LastName, Title FROM Contact"
        for response in [try session.create(heavy), try session.restQuery(heavy)] {
            #expect(response.status == 400 && response.errorCode() == "QUERY_TOO_COMPLICATED")
        }
        #expect(try session.create("SELECT Id, LastName, Title FROM Contact").status == 200)
        let long = "SELECT Id FROM Contact WHERE LastName != '" + String(repeating: "x", count: 100_000) + "'"
        let tooLong = try session.create(long)
        #expect(tooLong.status == 400 && tooLong.errorCode() == "MALFORMED_QUERY")
        // Weight limits change at run time.
        let policy = try Curl.request("POST", "\(emulator.baseURL)/__emulator/policy", body: #"{"maxQueryWeight":null}"#)
        #expect(policy.status == 200)
        #expect(try session.create(heavy).status == 200)
    }

    @Test func anObjectTheBulkAPIRefusesIsStillReadableOverREST() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5; $0.bulkUnsupportedObjects = ["Opportunity"] }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let refused = try session.create("SELECT Id FROM Opportunity")
        #expect(refused.status == 400 && refused.errorCode() == "INVALIDENTITY")
        #expect(refused.errorMessage()?.contains("is not supported by the Bulk API") == true)
        #expect(try session.restQuery("SELECT Id FROM Opportunity", all: true).status == 200)
        #expect(try session.create("SELECT Id FROM Contact").status == 200)
    }

    @Test func dailyAllowancesCountDownRunOutAndReset() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        func remaining(_ name: String) throws -> Int? {
            ((try session.get("/limits").object()[name]) as? [String: Any])?["Remaining"] as? Int
        }
        let jobsBefore = try #require(try remaining("DailyBulkV2QueryJobs"))
        _ = try session.run("SELECT Id FROM Contact")
        #expect(try remaining("DailyBulkV2QueryJobs") == jobsBefore - 1)
        let set = try Curl.request(
            "POST", "\(emulator.baseURL)/__emulator/limits",
            body: #"{"DailyBulkV2QueryJobs":{"Remaining":0},"DailyApiRequests":{"Max":1000,"Remaining":500}}"#)
        #expect(set.status == 200)
        let refused = try session.create("SELECT Id FROM Contact")
        #expect(refused.status == 403 && refused.errorCode() == "REQUEST_LIMIT_EXCEEDED")
        let api = try #require(try session.get("/limits").object()["DailyApiRequests"] as? [String: Any])
        #expect(api["Max"] as? Int == 1000 && (api["Remaining"] as? Int ?? 0) < 500)
        #expect(try Curl.request("POST", "\(emulator.baseURL)/__emulator/limits/reset").status == 200)
        #expect(try session.create("SELECT Id FROM Contact").status == 200)
        #expect(try remaining("DailyApiRequests") == 998)
    }

    @Test func spentFileStorageOrAPIRequestsRefuseUntilReset() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        #expect(emulator.emulator.setRemaining(0, of: "DailyBulkV2QueryFileStorageMB"))
        let storage = try session.create("SELECT Id FROM Contact")
        #expect(storage.status == 403 && storage.errorMessage()?.contains("DailyBulkV2QueryFileStorageMB") == true)
        #expect(emulator.emulator.setRemaining(0, of: "DailyApiRequests"))
        #expect(try session.restQuery("SELECT COUNT() FROM Contact").errorCode() == "REQUEST_LIMIT_EXCEEDED")
        emulator.emulator.resetDailyLimits()
        #expect(try session.create("SELECT Id FROM Contact").status == 200)
        #expect(!emulator.emulator.setRemaining(1, of: "DailyNothing"))
    }

    @Test func aConnectionCutAfterNPagesAndThePagesServedCounter() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 50 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let job = try session.run("SELECT Id FROM Contact")
        let arm = try Curl.request("POST", "\(emulator.baseURL)/__emulator/faults", body: #"{"kind":"killAfterPages","pages":2}"#)
        #expect(arm.status == 200)
        func page(_ locator: String?) throws -> CurlResponse {
            try session.get("/jobs/query/\(job)/results?maxRecords=10" + (locator.map { "&locator=\($0)" } ?? ""))
        }
        let first = try page(nil)
        let second = try page(first.header("Sforce-Locator"))
        let lost = second.header("Sforce-Locator")
        #expect(first.exitCode == 0 && second.exitCode == 0)
        #expect(try page(lost).exitCode != 0, "the third page's connection is closed")
        func served() throws -> Int? {
            try Curl.request("GET", "\(emulator.baseURL)/__emulator/jobs/\(job)/pages").object()["pagesServed"] as? Int
        }
        #expect(try served() == 2)
        // The rerun resumes from the lost page's locator: three more pages, none cut.
        var rest = [try page(lost)]
        while let next = rest.last?.header("Sforce-Locator"), next != "null", rest.count < 10 { rest.append(try page(next)) }
        #expect(rest.count == 3 && rest.allSatisfy { $0.status == 200 && $0.exitCode == 0 })
        #expect(try served() == 5 && emulator.emulator.pagesServed(job: job) == 5)
    }
}
