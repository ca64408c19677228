import Foundation
import PlainHTTP
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real Prometheus Pushgateway on a free loopback port, started and stopped (by pid) by the test.
final class TestPushgateway {
    static let binary = "/usr/bin/prometheus-pushgateway"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    let url: String
    private let process: TestSyncProcess

    init() throws {
        let port = try TestSyncProcess.freeLoopbackPort()
        url = "http://127.0.0.1:\(port)"
        process = try TestSyncProcess(Self.binary, ["--web.listen-address=127.0.0.1:\(port)"], environment: [:])
        let up = E2EFixture.waitUntil(timeout: .seconds(20)) {
            (try? PlainHTTP.request("GET", url + "/-/ready", timeoutSeconds: 1))?.status == 200
        }
        guard up else {
            throw PlainHTTP.Failure(description: "pushgateway did not come up: \(process.standardError)")
        }
    }

    deinit {
        process.send(SIGTERM)
        process.wait(timeout: .seconds(10))
    }

    /// The value of the series `name` whose labels include `labels` (Pushgateway adds job, instance, …).
    func value(_ name: String, _ labels: [String: String] = [:]) throws -> Double? {
        let text = try PlainHTTP.request("GET", url + "/metrics", timeoutSeconds: 5).body
        return Self.value(in: text, name, labels)
    }

    static func value(in text: String, _ name: String, _ labels: [String: String]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard let close = line.lastIndex(of: "}") ?? line.firstIndex(of: " ") else { continue }
            let head = String(line[..<close])
            if labels.allSatisfy({ head.contains("\($0.key)=\"\($0.value)\"") }) {
                return Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }
}

/// `sfpg run --metrics-pushgateway/--metrics-file` against a real Pushgateway: every run pushes, success or failure,
/// and a failure never erases the last success.
@Suite(
    "CLI: run metrics (Pushgateway, textfile)", .serialized,
    .enabled(if: TestPushgateway.available, "prometheus-pushgateway is not installed (scripts/install-deps installs it)"))
struct MetricsPushTests {
    static let contacts = ["sfpg_job": "contacts", "object": "Contact"]

    @Test("a successful run pushes its group; a failed run pushes status 0 and keeps the last success")
    func pushSuccessThenFailure() async throws {
        let gateway = try TestPushgateway()
        let world = try await E2EFixture { $0.contactCount = 120 }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-prom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/sfpg.prom"
        let arguments = ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory,
                         "--metrics-pushgateway", gateway.url, "--metrics-file", file]

        let ok = try world.sfpg(arguments + ["--full"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try gateway.value("sfpg_run_status", Self.contacts) == 1)
        #expect(try gateway.value("sfpg_run_exit_code", Self.contacts) == 0)
        #expect(try gateway.value("sfpg_rows", Self.contacts.merging(["operation": "inserted"]) { $1 }) == 120)
        #expect(try gateway.value("sfpg_records_expected", Self.contacts) == 120)
        #expect(try gateway.value("sfpg_records_loaded", Self.contacts) == 120)
        #expect(try (gateway.value("sfpg_salesforce_api_calls", Self.contacts) ?? 0) > 0)
        // The emulator spends jobProcessingDelay (20 ms) before JobComplete; the poll adds its own interval.
        let bulk = try #require(try gateway.value("sfpg_bulk_job_seconds", Self.contacts))
        #expect(bulk > 0.01 && bulk < 30, "\(bulk)")
        #expect(try gateway.value("sfpg_build_info", ["sfpg_job": "contacts", "version": "0.9.0"]) == 1)
        let lastSuccess = try #require(try gateway.value("sfpg_last_success_timestamp_seconds", Self.contacts))
        let watermark = try #require(try gateway.value("sfpg_watermark_timestamp_seconds", Self.contacts))
        #expect(abs(lastSuccess - Date().timeIntervalSince1970) < 120)
        let stored = try world.connection.execute(
            "SELECT extract(epoch FROM completed_at)::float8 FROM sfpg.sync_logs WHERE status = 'success' ORDER BY id DESC LIMIT 1")
        #expect(abs(lastSuccess - (Double(stored.rows.first?.first.flatMap { $0 } ?? "") ?? 0)) < 0.01)
        let textfile = try String(contentsOfFile: file, encoding: .utf8)
        #expect(TestPushgateway.value(in: textfile, "sfpg_run_status", Self.contacts) == 1, "\(textfile)")
        #expect(textfile.contains("# TYPE sfpg_rows gauge"))

        // Salesforce fails the Bulk job: exit 1, the whole group replaced (PUT) with the database's last success.
        world.emulator.faults.failJobs(count: 1, errorMessage: "InternalServerError")
        let failed = try world.sfpg(arguments)
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(try gateway.value("sfpg_run_status", Self.contacts) == 0)
        #expect(try gateway.value("sfpg_run_exit_code", Self.contacts) == 1)
        #expect(try gateway.value("sfpg_rows", Self.contacts.merging(["operation": "inserted"]) { $1 }) == 0)
        #expect(try gateway.value("sfpg_last_success_timestamp_seconds", Self.contacts) == lastSuccess)
        #expect(try gateway.value("sfpg_watermark_timestamp_seconds", Self.contacts) == watermark)
        let failedFile = try String(contentsOfFile: file, encoding: .utf8)
        #expect(TestPushgateway.value(in: failedFile, "sfpg_run_status", Self.contacts) == 0)
        #expect(TestPushgateway.value(in: failedFile, "sfpg_last_success_timestamp_seconds", Self.contacts) == lastSuccess)

        // PostgreSQL unreachable: exit 4; nothing to read the last success from, so only the sent metrics change.
        let unreachable = try TestSyncProcess.run(
            arguments + ["--database-url", "postgresql://sfpg@127.0.0.1:1/x"], environment: world.environment)
        #expect(unreachable.status == 4, "\(unreachable.stderr)")
        #expect(try gateway.value("sfpg_run_exit_code", Self.contacts) == 4)
        #expect(try gateway.value("sfpg_run_status", Self.contacts) == 0)
        #expect(try gateway.value("sfpg_last_success_timestamp_seconds", Self.contacts) == lastSuccess)
        #expect(try gateway.value("sfpg_watermark_timestamp_seconds", Self.contacts) == watermark)
    }

    @Test("SFPG_PUSHGATEWAY_URL works like the option; an unreachable Pushgateway only logs a warning")
    func environmentAndUnreachable() async throws {
        let gateway = try TestPushgateway()
        let world = try await E2EFixture { $0.contactCount = 30 }
        let arguments = ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory]
        let pushed = try world.sfpg(arguments, environment: ["SFPG_PUSHGATEWAY_URL": gateway.url])
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(try gateway.value("sfpg_run_status", Self.contacts) == 1)

        let port = try TestSyncProcess.freeLoopbackPort()
        let unreachable = try world.sfpg(arguments + ["--metrics-pushgateway", "http://127.0.0.1:\(port)"])
        #expect(unreachable.status == 0, "a metrics problem must not fail the run: \(unreachable.stderr)")
        #expect(unreachable.stderr.contains("could not push metrics"), "\(unreachable.stderr)")
    }
}
