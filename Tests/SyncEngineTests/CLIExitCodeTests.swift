import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// `sfpg run` as a subprocess: each documented failure gives its exit code and changes no table.
@Suite("CLI: exit codes", .serialized)
struct CLIExitCodeTests {
    /// A world with one successful full sync, so there is state a failed run could damage.
    static func syncedWorld() async throws -> E2EFixture {
        let world = try await E2EFixture { $0.contactCount = 200 }
        try world.sync(try world.job("contacts"), .full)
        return world
    }

    static func tempJobs(_ files: [String: String]) throws -> String {
        let directory = URL(fileURLWithPath: try ScratchDirectory.make("sfpg-jobs"))
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return directory.path
    }

    static var contactsYAML: String {
        get throws { try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8) }
    }

    @Test("an invalid job file exits 2 naming the file and the key, and changes nothing")
    func invalidJobFile() async throws {
        let world = try await Self.syncedWorld()
        let broken = try Self.contactsYAML.replacingOccurrences(of: "deletes: soft", with: "deletes: sometimes")
        let jobs = try Self.tempJobs(["contacts.yaml": broken])
        let before = world.fingerprint()
        let result = try world.sfpg(["run", "contacts", "--jobs-directory", jobs])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("contacts.yaml"), "\(result.stderr)")
        #expect(result.stderr.contains("deletes"), "\(result.stderr)")
        #expect(world.fingerprint() == before)
    }

    @Test("wrong Salesforce credentials exit 3 and change nothing")
    func badCredentials() async throws {
        let world = try await Self.syncedWorld()
        let before = world.fingerprint()
        let result = try world.sfpg(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory], environment: ["SF_PASSWORD": "not-the-password"])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(world.fingerprint() == before)
    }

    @Test("a fixed access token Salesforce rejects exits 3 and changes nothing")
    func rejectedAccessToken() async throws {
        let world = try await Self.syncedWorld()
        let before = world.fingerprint()
        let result = try world.sfpg(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory],
            environment: ["SF_ACCESS_TOKEN": "00D8d000000Emu1!ARnot-a-token", "SF_INSTANCE_URL": world.emulator.baseURL])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("cannot be renewed"), "\(result.stderr)")
        #expect(world.fingerprint() == before)
    }

    @Test("a mapped field the object lacks exits 2 naming the field, and changes nothing")
    func missingField() async throws {
        let world = try await Self.syncedWorld()
        let drifted = try Self.contactsYAML.replacingOccurrences(of: "  Title: title", with: "  Job_Title__c: title")
        let jobs = try Self.tempJobs(["contacts.yaml": drifted])
        let before = world.fingerprint()
        let result = try world.sfpg(["run", "contacts", "--jobs-directory", jobs])
        #expect(result.status == 2, "\(result.stderr)")
        #expect((result.stderr + result.stdout).contains("Job_Title__c"), "\(result.stderr)")
        #expect(world.fingerprint() == before)
        #expect(world.jobCreations.count == 1)
    }

    @Test("an unreachable database exits 4")
    func unreachableDatabase() async throws {
        let world = try await Self.syncedWorld()
        let before = world.fingerprint()
        let result = try TestSyncProcess.run(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--database-url", "postgresql://127.0.0.1:1/x"],
            environment: world.environment)
        #expect(result.status == 4, "\(result.stderr)")
        #expect(world.fingerprint() == before)
        #expect(world.jobCreations.count == 1)
    }

    @Test("a held job lock exits 5 and changes nothing")
    func lockHeld() async throws {
        let world = try await Self.syncedWorld()
        let holder = try PostgresConnection(world.conninfo, applicationName: "sfpg-test-lock")
        try holder.execute("SELECT pg_advisory_lock(hashtext('sfpg'), hashtext('contacts'))")
        let before = world.fingerprint()
        let result = try world.sfpg(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 5, "\(result.stderr)")
        #expect(world.fingerprint() == before)
        try holder.execute("SELECT pg_advisory_unlock(hashtext('sfpg'), hashtext('contacts'))")
    }

    @Test("REQUEST_LIMIT_EXCEEDED exits 6 and changes no target table")
    func requestLimit() async throws {
        let world = try await Self.syncedWorld()
        world.emulator.org.randomRound("Contact", seed: 5, inserts: 5, updates: 5, softDeletes: 1, undeletes: 0, hardDeletes: 0)
        world.emulator.faults.exceedRequestLimit(count: 1_000)
        let before = world.fingerprint()
        let result = try world.sfpg(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 6, "\(result.stderr)")
        // The first API call (describe, in the preflight) is refused: nothing was attempted, nothing changed.
        #expect(world.fingerprint() == before)
    }

    @Test("REQUEST_LIMIT_EXCEEDED while polling exits 6, logs the run failed and leaves the target table")
    func requestLimitMidRun() async throws {
        let world = try await Self.syncedWorld()
        world.emulator.org.randomRound("Contact", seed: 6, inserts: 5, updates: 5, softDeletes: 1, undeletes: 0, hardDeletes: 0)
        world.emulator.faults.failRequests(
            status: 403, count: 50, afterRequests: 1, pathContains: "/jobs/query/",
            body: #"[{"errorCode":"REQUEST_LIMIT_EXCEEDED","message":"TotalRequests Limit exceeded."}]"#)
        let before = world.fingerprint()
        let result = try world.sfpg(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 6, "\(result.stderr)")
        #expect(world.fingerprint()["public.salesforce_contacts"] == before["public.salesforce_contacts"])
        let last = try world.connection.execute(
            "SELECT status, error_message FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id DESC LIMIT 1")
        #expect(last.rows.first?[0] == "failed")
        let message = (last.rows.first?[1] ?? nil) ?? ""
        #expect(message.lowercased().contains("limit"), "\(message)")
    }

    @Test(
        "SIGTERM or SIGINT during a slow run exits 130, logs the run cancelled, aborts the Bulk job, leaves the table",
        arguments: [SIGTERM, SIGINT])
    func signalCancels(_ signal: Int32) async throws {
        let world = try await Self.syncedWorld()
        world.emulator.org.randomRound("Contact", seed: 9, inserts: 5, updates: 5, softDeletes: 1, undeletes: 0, hardDeletes: 0)
        world.emulator.faults.slowInProgress(polls: 10_000)
        let before = world.fingerprint()
        let creations = world.jobCreations.count
        let process = try world.spawn(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        let polling = E2EFixture.waitUntil {
            world.jobCreations.count > creations
                && world.emulator.requests.last.map { $0.method == "GET" && $0.path.contains("/jobs/query/") } == true
        }
        #expect(polling, "the run never reached polling: \(process.standardError)")
        process.send(signal)
        let status = process.wait(timeout: .seconds(30))
        #expect(status == 130, "\(process.standardError)")
        let jobId = try #require(world.jobCreations.last.flatMap { _ in world.jobIds(method: "GET").last })
        #expect(world.jobIds(method: "PATCH").contains(jobId), "the Bulk job \(jobId) was not aborted")
        #expect(world.fingerprint()["public.salesforce_contacts"] == before["public.salesforce_contacts"])
        let last = try world.connection.execute(
            "SELECT status, salesforce_job_id FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id DESC LIMIT 1")
        #expect(last.rows.first?[0] == "cancelled")
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }
    @Test("SIGTERM during the download exits 130, rolls back the pages already copied, logs the run cancelled")
    func sigtermDuringDownload() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 1_500
            $0.defaultPageSize = 300
        }
        try world.sync(try world.job("contacts"), .full)
        world.emulator.org.randomRound("Contact", seed: 8, inserts: 400, updates: 400, softDeletes: 50, undeletes: 0, hardDeletes: 0)
        world.emulator.faults.setBandwidth(bytesPerSecond: 16_000)
        let before = world.fingerprint()
        let pagesBefore = world.emulator.requests.filter { $0.path.hasSuffix("/results") }.count
        let process = try world.spawn(["run", "contacts", "--full", "--jobs-directory", E2EFixture.jobsDirectory])
        let downloading = E2EFixture.waitUntil {
            world.emulator.requests.filter { $0.path.hasSuffix("/results") }.count >= pagesBefore + 2
        }
        #expect(downloading, "the run never reached its second page: \(process.standardError)")
        #expect(process.isRunning)
        process.send(SIGTERM)
        let status = process.wait(timeout: .seconds(30))
        #expect(status == 130, "\(process.standardError)")
        #expect(world.fingerprint()["public.salesforce_contacts"] == before["public.salesforce_contacts"])
        let last = try world.connection.execute(
            "SELECT status FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id DESC LIMIT 1")
        #expect(last.rows.first?[0] == "cancelled")
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }
}
