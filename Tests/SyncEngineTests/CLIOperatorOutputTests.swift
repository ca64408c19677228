import Foundation
import PostgresLoader
import SyncEngine
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What an operator's tools read from `sfpg run` (issue 21 #5, #6, #13): the metrics textfile, JSON log lines, and
/// the summary, retry, lock-wait and progress messages, each through the `sfpg` binary.
@Suite("CLI: output a collector can trust", .serialized)
struct CLIOperatorOutputTests {
    static let jobs = ["--jobs-directory", E2EFixture.jobsDirectory]

    /// The JSON objects of `text`'s lines; a line that is not one fails the test.
    static func jsonLines(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { line in
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object != nil, "not a JSON line: \(line)", sourceLocation: sourceLocation)
            return object
        }
    }

    @Test("--metrics-file keeps the other jobs' series, one HELP per family, replaced atomically (issue 21 #5)")
    func metricsFileMergesByJob() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        let directory = try ScratchDirectory.make("sfpg-ops")
        let file = directory + "/sfpg.prom"
        let contacts = ["sfpg_job": "contacts", "object": "Contact"]
        let accounts = ["sfpg_job": "accounts", "object": "Account"]

        #expect(try world.sfpg(["run", "contacts", "--metrics-file", file] + Self.jobs).status == 0)
        let contactsSuccess = try #require(TestPushgateway.value(
            in: String(contentsOfFile: file, encoding: .utf8), "sfpg_last_success_timestamp_seconds", contacts))
        let second = try world.sfpg(["run", "accounts", "--metrics-file", file] + Self.jobs)
        #expect(second.status == 0, "\(second.stderr)")
        var text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(TestPushgateway.value(in: text, "sfpg_run_status", contacts) == 1, "\(text)")
        #expect(TestPushgateway.value(in: text, "sfpg_run_status", accounts) == 1, "\(text)")
        #expect(TestPushgateway.value(in: text, "sfpg_rows", contacts.merging(["operation": "inserted"]) { $1 }) == 30)
        #expect(text.components(separatedBy: "# HELP sfpg_run_status ").count == 2, "\(text)")
        #expect(text.components(separatedBy: "sfpg_build_info{").count == 2, "\(text)")

        // The database unreachable: exit 4; contacts' last success stays (nothing to read it from), accounts' too.
        let unreachable = try TestSyncProcess.run(
            ["run", "contacts", "--metrics-file", file, "--database-url", "postgresql://sfpg@127.0.0.1:1/x"] + Self.jobs,
            environment: world.environment)
        #expect(unreachable.status == 4, "\(unreachable.stderr)")
        text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(TestPushgateway.value(in: text, "sfpg_run_exit_code", contacts) == 4, "\(text)")
        #expect(TestPushgateway.value(in: text, "sfpg_last_success_timestamp_seconds", contacts) == contactsSuccess)
        #expect(TestPushgateway.value(in: text, "sfpg_run_status", accounts) == 1)
        // Only the file and its lock file: no temporary file left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == [".sfpg.prom.lock", "sfpg.prom"])
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/promtool") {
            let lint = try TestSyncProcess.run("/usr/bin/promtool", ["check", "metrics"], input: Array(text.utf8))
            #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        }
    }

    @Test("--log-format json: stdout stays empty, the summary is a JSON event, counts are JSON numbers (issue 21 #6)")
    func jsonLogsAreNumbersAndCarryTheSummary() async throws {
        let world = try await E2EFixture { $0.contactCount = 40 }
        let ok = try world.sfpg(["run", "contacts", "--log-format", "json"] + Self.jobs)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.isEmpty, "text on stdout would mix into the JSON log: \(ok.stdout)")
        let lines = Self.jsonLines(ok.stderr)
        let finished = try #require(lines.first { $0["message"] as? String == "sync finished" }, "\(ok.stderr)")
        #expect(finished["sync.inserted"] as? Int == 40, "\(finished)")
        #expect(finished["sync.api_calls"] is Int && !(finished["sync.api_calls"] is String))
        let summary = try #require(lines.first { $0["message"] as? String == "job summary" }, "\(ok.stderr)")
        #expect(summary["job.name"] as? String == "contacts")
        #expect(summary["sync.inserted"] as? Int == 40 && summary["sync.exit_code"] as? Int == 0, "\(summary)")
        #expect(summary["sync.status"] as? String == "ok")
        #expect((summary["summary"] as? String)?.contains("40 inserted") == true)

        // Two jobs, one locked: both summaries and the closing count are events too.
        let holder = try PostgresConnection(world.conninfo, applicationName: "sfpg-test-lock")
        try holder.execute("SELECT pg_advisory_lock(hashtext('sfpg'), hashtext('accounts'))")
        let mixed = try world.sfpg(["run", "contacts", "accounts", "--log-format", "json"] + Self.jobs)
        #expect(mixed.status == 5, "\(mixed.stderr)")
        #expect(mixed.stdout.isEmpty, "\(mixed.stdout)")
        let closing = try #require(Self.jsonLines(mixed.stderr).first { $0["message"] as? String == "run summary" })
        #expect(closing["jobs.failed"] as? Int == 1 && closing["jobs.total"] as? Int == 2, "\(closing)")
        #expect(closing["summary"] as? String == "1 of 2 jobs failed: 1 lock")
        // The lock message names the option that waits instead.
        #expect(mixed.stderr.contains("--wait-lock"), "\(mixed.stderr)")
        try holder.execute("SELECT pg_advisory_unlock(hashtext('sfpg'), hashtext('accounts'))")
    }

    @Test("a retried request and a --wait-lock wait are logged at the default level (issue 21 #13)")
    func retriesAndLockWaitsAreLogged() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        world.emulator.faults.failRequests(status: 503, count: 1, pathContains: "/jobs/query/")
        let retried = try world.sfpg(["run", "contacts", "--log-format", "text"] + Self.jobs)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stderr.contains("Retrying request"), "\(retried.stderr)")

        let holder = try PostgresConnection(world.conninfo, applicationName: "sfpg-test-lock")
        try holder.execute("SELECT pg_advisory_lock(hashtext('sfpg'), hashtext('contacts'))")
        let waiting = try world.spawn(["run", "contacts", "--wait-lock", "--log-format", "text"] + Self.jobs)
        let said = E2EFixture.waitUntil(timeout: .seconds(30)) { waiting.standardError.contains("--wait-lock") }
        #expect(said, "no lock-wait message: \(waiting.standardError)")
        #expect(waiting.isRunning)
        try holder.execute("SELECT pg_advisory_unlock(hashtext('sfpg'), hashtext('contacts'))")
        #expect(waiting.wait(timeout: .seconds(60)) == 0, "\(waiting.standardError)")
        #expect(waiting.standardError.contains("job 'contacts'"), "\(waiting.standardError)")
    }

    @Test("the summary counts backfilled rows; a shard says its run is pending until the last one (issue 21 #13)")
    func summariesSayWhatHappened() async throws {
        // A short overlap, so the incremental run re-reads few records and the backfill fills the rest.
        let world = try await E2EFixture { $0.contactCount = 100 }
        let before = try world.writeJob(DriftTests.contactsYAML(extra: "overlap: 1s"), name: "contacts")
        let directory = (before.file as NSString).deletingLastPathComponent
        #expect(try world.sfpg(["run", "contacts", "--jobs-directory", directory]).status == 0)
        try DriftTests.contactsYAML(extra: "overlap: 1s", fields: ["Title: title", "Department: department"])
            .write(toFile: before.file, atomically: true, encoding: .utf8)
        let backfill = try world.sfpg(["run", "contacts", "--jobs-directory", directory])
        #expect(backfill.status == 0, "\(backfill.stderr)")
        #expect(backfill.stdout.range(of: #", [1-9][0-9]* backfilled;"#, options: .regularExpression) != nil, "\(backfill.stdout)")

        let first = try world.sfpg(["run", "contacts", "--full", "--shard", "0/2", "--shard-run", "ops-t"] + Self.jobs)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("contacts: shard 0/2 committed; run pending"), "\(first.stdout)")
        #expect(!first.stdout.contains("sync ok"))
        let last = try world.sfpg(["run", "contacts", "--full", "--shard", "1/2", "--shard-run", "ops-t"] + Self.jobs)
        #expect(last.stdout.contains("contacts: shard 1/2 committed; run complete"), "\(last.stdout)")
    }

    @Test("a run stopped by SIGTERM reads 'cancelled (signal)', in the summary and in the run log (issue 21 #13)")
    func cancelledBySignal() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        world.emulator.faults.slowInProgress(polls: 10_000)
        let process = try world.spawn(["run", "contacts"] + Self.jobs)
        #expect(E2EFixture.waitUntil { !world.jobCreations.isEmpty }, "\(process.standardError)")
        usleep(200_000)
        process.send(SIGTERM)
        #expect(process.wait(timeout: .seconds(30)) == 130, "\(process.standardError)")
        #expect(process.standardOutput.contains("contacts: cancelled (signal) (exit 130)"), "\(process.standardOutput)")
        #expect(!(process.standardOutput + process.standardError).contains("Salesforce cancelled"))
        let logged = try world.connection.execute(
            "SELECT status, error_message FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id DESC LIMIT 1")
        #expect(logged.rows.first?[0] == "cancelled")
        #expect((logged.rows.first?[1] ?? nil)?.hasPrefix("cancelled (signal)") == true, "\(logged.rows)")
    }

    @Test("on a terminal the progress line names the job and counts pages before rows are known (issue 21 #13)")
    func progressLineOnATerminal() async throws {
        // Two pages over one slow connection: the line is redrawn while the first is still downloading.
        let world = try await E2EFixture { ($0.contactCount, $0.defaultPageSize) = (600, 300) }
        world.emulator.faults.setBandwidth(bytesPerSecond: 5_000)
        let sfpg = try TestBinaries.path("sfpg")
        let command = ([sfpg, "run", "contacts", "--download-connections", "1", "--database-url", world.conninfo] + Self.jobs)
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        // script(1) gives sfpg a terminal on stderr, where the progress line is drawn.
        let result = try TestSyncProcess.run(
            "/usr/bin/script", ["-qefc", command, "/dev/null"], environment: world.environment, timeout: .seconds(90))
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("contacts: 0 pages loaded, "), "\(result.stdout)")
        #expect(result.stdout.contains("contacts: 1 page loaded, "), "\(result.stdout)")
    }
}
