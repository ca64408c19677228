import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@testable import SalesforceEmulator

@Suite struct FaultTests {
    @Test func fiveHundredOnTheNthMatchingRequest() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        emulator.faults.failRequests(status: 503, count: 1, afterRequests: 1, pathContains: "/limits")
        #expect(try session.get("/limits").status == 200)
        let failed = try session.get("/limits")
        #expect(failed.status == 503)
        #expect(failed.errorCode() != nil)
        #expect(try session.get("/limits").status == 200)
        // Other paths are not affected by a path-scoped fault.
        emulator.faults.failRequests(status: 500, count: 2, pathContains: "/results")
        #expect(try session.get("/limits").status == 200)
    }

    @Test func connectionResetMidBodyThenReplayWorks() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 300 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id, Description FROM Contact")
        emulator.faults.resetConnectionMidBody(count: 1)
        let broken = try session.get("/jobs/query/\(id)/results")
        #expect(broken.exitCode != 0)
        let good = try session.get("/jobs/query/\(id)/results")
        #expect(good.exitCode == 0 && good.status == 200)
        #expect(broken.body.count < good.body.count)
    }

    @Test func truncatedGzipBody() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 300 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id, Description FROM Contact")
        emulator.faults.truncateGzip(count: 1)
        let truncated = try session.get("/jobs/query/\(id)/results", headers: ["Accept-Encoding": "gzip"])
        #expect(truncated.status == 200 && truncated.exitCode == 0)
        #expect(throws: (any Error).self) { try Gzip.decompress(truncated.body) }
        let whole = try session.get("/jobs/query/\(id)/results", headers: ["Accept-Encoding": "gzip"])
        #expect(try Gzip.decompress(whole.body).count > 0)
    }

    @Test func failedJobsAlwaysCarryAnErrorMessage() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        emulator.faults.failJobs(count: 1, errorMessage: "Query timed out after 15 retries")
        let failed = try session.wait(try session.create("SELECT Id FROM Contact").object()["id"] as? String ?? "")
        #expect(failed["state"] as? String == "Failed")
        #expect(failed["errorMessage"] as? String == "Query timed out after 15 retries")
        emulator.faults.failJobs(count: 1)
        let silent = try session.wait(try session.create("SELECT Id FROM Contact").object()["id"] as? String ?? "")
        #expect(silent["state"] as? String == "Failed")
        // A Failed job always says why, even when the fault gave no message.
        #expect((silent["errorMessage"] as? String)?.isEmpty == false)
        let id = try session.create("SELECT Id FROM Contact").object()["id"] as? String ?? ""
        #expect(try session.wait(id)["state"] as? String == "JobComplete")
    }

    @Test func failQueryFailsOnlyMatchingJobsWithTheTimeoutMessage() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        emulator.faults.failQueries(containing: "Id >= '003", count: 1)
        func run(_ soql: String) throws -> [String: Any] {
            try session.wait(try session.create(soql).object()["id"] as? String ?? "")
        }
        #expect(try run("SELECT Id FROM Contact WHERE Id < '003000000000000'")["state"] as? String == "JobComplete")
        let failed = try run("SELECT Id FROM Contact WHERE Id >= '003000000000000'")
        #expect(failed["state"] as? String == "Failed")
        #expect(failed["errorMessage"] as? String == FaultInjector.queryTimeoutMessage)
        // Counted: the second matching job completes.
        #expect(try run("SELECT Id FROM Contact WHERE Id >= '003000000000000'")["state"] as? String == "JobComplete")
        // Through the admin API, with its own message.
        let body = #"{"kind":"failQuery","soqlContains":"LIMIT 1","count":2,"errorMessage":"MALFORMED_QUERY: nope"}"#
        let json = ["Content-Type": "application/json"]
        #expect(try Curl.request("POST", "\(emulator.baseURL)/__emulator/faults", headers: json, body: body).status == 200)
        #expect(try run("SELECT Id FROM Contact")["state"] as? String == "JobComplete")
        for _ in 0..<2 { #expect(try run("SELECT Id FROM Contact LIMIT 1")["errorMessage"] as? String == "MALFORMED_QUERY: nope") }
        #expect(try run("SELECT Id FROM Contact LIMIT 1")["state"] as? String == "JobComplete")
        let missing = #"{"kind":"failQuery"}"#
        #expect(try Curl.request("POST", "\(emulator.baseURL)/__emulator/faults", headers: json, body: missing).status == 400)
    }

    @Test func requestLimitExceeded() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        emulator.faults.exceedRequestLimit(count: 1)
        let denied = try session.get("/limits")
        #expect(denied.status == 403)
        #expect(denied.text == #"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#)
        #expect(try session.get("/limits").status == 200)
    }

    @Test func dailyLimitExhaustionAlsoGives403() async throws {
        let emulator = try await TestEmulator.start { $0.dailyApiRequests = 2 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        #expect(try session.get("/limits").status == 200)
        #expect(try session.get("/limits").status == 200)
        #expect(try session.get("/limits").errorCode() == "REQUEST_LIMIT_EXCEEDED")
    }

    @Test func tokensExpireAfterKCallsUntilReauthentication() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        emulator.faults.expireTokens(afterAPICalls: 2)
        #expect(try session.get("/limits").status == 200)
        #expect(try session.get("/limits").status == 200)
        let expired = try session.get("/limits")
        #expect(expired.status == 401)
        #expect(expired.errorCode() == "INVALID_SESSION_ID")
        #expect(try session.get("/limits").status == 401)
        let fresh = try Session(emulator)
        #expect(try fresh.get("/limits").status == 200)
    }

    @Test func slowInProgressHoldsForNPolls() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5; $0.jobProcessingDelay = .zero }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        emulator.faults.slowInProgress(polls: 3)
        let id = try session.create("SELECT Id FROM Contact").object()["id"] as? String ?? ""
        try await Task.sleep(for: .milliseconds(100))
        var states: [String] = []
        for _ in 0..<4 { states.append(try session.get("/jobs/query/\(id)").object()["state"] as? String ?? "") }
        #expect(states == ["InProgress", "InProgress", "InProgress", "JobComplete"])
    }

    @Test func bandwidthCapAndLatencyStillDeliverEveryByte() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 600; $0.perConnectionBytesPerSecond = 1_000_000 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id, Description, Notes__c FROM Contact")
        emulator.faults.setLatency(.milliseconds(5))
        let paced = try session.get("/jobs/query/\(id)/results")
        emulator.faults.setBandwidth(bytesPerSecond: 50_000_000)
        let fast = try session.get("/jobs/query/\(id)/results")
        #expect(paced.status == 200 && paced.body.count > 60_000)
        #expect(paced.body == fast.body)
    }

    @Test func faultsAndRecordsThroughTheAdminAPI() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let admin = "\(emulator.baseURL)/__emulator"
        let json = ["Content-Type": "application/json"]
        let session = try Session(emulator)
        #expect(try Curl.request("POST", "\(admin)/faults", headers: json, body: #"{"kind":"http","status":502,"pathContains":"/limits"}"#).status == 200)
        #expect(try session.get("/limits").status == 502)
        let created = try Curl.request("POST", "\(admin)/records/Contact", headers: json, body: #"{"fields":{"LastName":"Admin","Email":null}}"#)
        let id = try #require(try created.object()["id"] as? String)
        #expect(try Curl.request("POST", "\(admin)/records/Contact/\(id)/delete").status == 200)
        let truth = try Curl.request("GET", "\(admin)/truth/Contact?fields=Id,LastName,IsDeleted&includeDeleted=true").object()
        let last = try #require((truth["rows"] as? [[Any]])?.last)
        #expect(last[0] as? String == id && last[1] as? String == "Admin" && last[2] as? String == "true")
        let log = try #require(try Curl.request("GET", "\(admin)/requests").json() as? [[String: Any]])
        #expect(log.contains { $0["path"] as? String == "/services/data/v62.0/limits" && ($0["status"] as? NSNumber)?.intValue == 502 })
        #expect(try Curl.request("POST", "\(admin)/reset").status == 200)
        #expect(emulator.org.ids("Contact", includeDeleted: true).count == 5)
        #expect(emulator.requests.isEmpty)
    }
}
