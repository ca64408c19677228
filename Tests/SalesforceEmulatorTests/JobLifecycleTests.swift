import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@Suite struct JobLifecycleTests {
    @Test func createReturnsUploadCompleteJobInfo() async throws {
        let emulator = try await TestEmulator.start { $0.jobProcessingDelay = .seconds(5) }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let response = try session.create("SELECT Id, LastName FROM Contact", operation: "queryAll")
        #expect(response.status == 200)
        let info = try response.object()
        let id = try #require(info["id"] as? String)
        #expect(id.count == 18 && id.hasPrefix("750"))
        #expect(info["state"] as? String == "UploadComplete")
        #expect(info["operation"] as? String == "queryAll")
        #expect(info["object"] as? String == "Contact")
        #expect(info["concurrencyMode"] as? String == "Parallel")
        #expect(info["contentType"] as? String == "CSV")
        #expect(info["lineEnding"] as? String == "LF" && info["columnDelimiter"] as? String == "COMMA")
        #expect((info["createdDate"] as? String)?.hasSuffix("+0000") == true)
        // apiVersion is a JSON number written as 62.0.
        #expect(response.text.contains(#""apiVersion" : 62.0"#))
        #expect(emulator.requests.last?.soql == "SELECT Id, LastName FROM Contact")
    }

    @Test func jobProgressesToCompleteWithRecordCount() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 250 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.create("SELECT Id FROM Contact").object()["id"] as? String ?? ""
        let info = try session.wait(id)
        #expect(info["state"] as? String == "JobComplete")
        #expect(info["jobType"] as? String == "V2Query")
        #expect((info["numberRecordsProcessed"] as? NSNumber)?.intValue == 250)
        #expect(info["retries"] != nil && info["totalProcessingTime"] != nil && info["isPkChunkingSupported"] != nil)
    }

    @Test func resultsBeforeCompletionAre412() async throws {
        let emulator = try await TestEmulator.start { $0.jobProcessingDelay = .seconds(30) }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.create("SELECT Id FROM Contact").object()["id"] as? String ?? ""
        let early = try session.get("/jobs/query/\(id)/results")
        #expect(early.status == 412)
        #expect(early.errorCode() == "JOB_NOT_COMPLETE")
    }

    @Test func abortOnlyFromNonTerminalStatesAndDeleteOnlyTerminal() async throws {
        let emulator = try await TestEmulator.start { $0.jobProcessingDelay = .seconds(30) }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.create("SELECT Id FROM Contact").object()["id"] as? String ?? ""
        let notTerminal = try session.send("DELETE", "/jobs/query/\(id)", json: "")
        #expect(notTerminal.status == 400)
        #expect(notTerminal.errorCode() == "API_ERROR")
        let aborted = try session.send("PATCH", "/jobs/query/\(id)", json: #"{"state":"Aborted"}"#)
        #expect(aborted.status == 200)
        #expect(try aborted.object()["state"] as? String == "Aborted")
        #expect(try session.send("PATCH", "/jobs/query/\(id)", json: #"{"state":"Aborted"}"#).status == 400)
        let deleted = try session.send("DELETE", "/jobs/query/\(id)", json: "")
        #expect(deleted.status == 204)
        #expect(deleted.body.isEmpty)
        #expect(try session.get("/jobs/query/\(id)").status == 404)
        #expect(try session.get("/jobs/query/\(id)/results").status == 404)
    }

    @Test func resultsWithAnotherApiVersionAre409() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 10 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id FROM Contact")
        var other = session
        other.version = "61.0"
        #expect(try other.get("/jobs/query/\(id)/results").status == 409)
        #expect(try session.get("/jobs/query/\(id)/results").status == 200)
    }

    @Test func listJobs() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 10 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let first = try session.run("SELECT Id FROM Contact")
        let second = try session.run("SELECT Id FROM Account")
        let list = try session.get("/jobs/query").object()
        let ids = (list["records"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids == [first, second])
        #expect(list["done"] as? Bool == true)
        #expect(list["nextRecordsUrl"] is NSNull)
        let ingestOnly = try session.get("/jobs/query?jobType=V2Ingest").object()
        #expect((ingestOnly["records"] as? [Any])?.isEmpty == true)
    }

    @Test func badJobRequestsAreRejected() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        #expect(try session.create("SELECT Id FROM Contact", operation: "upsert").status == 400)
        #expect(try session.send("POST", "/jobs/query", json: "not json").status == 400)
        let badDelimiter = try session.create("SELECT Id FROM Contact", extra: #","columnDelimiter":"COLON""#)
        #expect(badDelimiter.status == 400)
    }

    @Test func longQueryBodyWithExpectContinueIsAccepted() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 3 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        // Over 1 KiB, so curl sends `Expect: 100-continue` and the server must answer it.
        let fields = Array(repeating: "Id, LastName, FirstName, Email", count: 40).joined(separator: ", ")
        let response = try session.create("SELECT \(fields) FROM Contact")
        #expect(response.status == 200)
        let id = try #require(try response.object()["id"] as? String)
        let header = try session.pages(try session.wait(id)["id"] as? String ?? "").first.map { CSV.rows($0.text)[0] }
        #expect(header?.count == 160)
    }
}
