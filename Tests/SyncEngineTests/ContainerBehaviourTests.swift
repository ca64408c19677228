import Foundation
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// How sfpg behaves under a container job runner: stderr is a pipe (JSON logs), SIGTERM ends a run within the
/// termination grace period with a `cancelled` row and a pushed metric.
@Suite("CLI: in containers (logs, SIGTERM)", .serialized)
struct ContainerBehaviourTests {
    @Test("logs are JSON lines when stderr is not a terminal; --log-format text forces text")
    func jsonLogsByDefault() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let arguments = ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory]
        let json = try world.sfpg(arguments)
        #expect(json.status == 0, "\(json.stderr)")
        let lines = json.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["message"] != nil, "not a JSON log line: \(line)")
        }
        let text = try world.sfpg(arguments + ["--log-format", "text"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stderr.contains("sync finished") && !text.stderr.hasPrefix("{"), "\(text.stderr)")
    }

    @Test(
        "SIGTERM within the grace period: exit 130, a cancelled row, the failure pushed, the last success kept",
        .enabled(if: TestPushgateway.available, "prometheus-pushgateway is not installed"))
    func sigtermPushesCancelled() async throws {
        let gateway = try TestPushgateway()
        let world = try await E2EFixture { $0.contactCount = 100 }
        let arguments = ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--metrics-pushgateway", gateway.url]
        let first = try world.sfpg(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        let labels = ["sfpg_job": "contacts", "object": "Contact"]
        let lastSuccess = try #require(try gateway.value("sfpg_last_success_timestamp_seconds", labels))

        world.emulator.faults.slowInProgress(polls: 10_000)
        let creations = world.jobCreations.count
        let process = try world.spawn(arguments)
        let polling = E2EFixture.waitUntil {
            world.jobCreations.count > creations
                && world.emulator.requests.last.map { $0.method == "GET" && $0.path.contains("/jobs/query/") } == true
        }
        #expect(polling, "the run never reached polling: \(process.standardError)")
        let signalled = ContinuousClock.now
        process.send(SIGTERM)
        let status = process.wait(timeout: .seconds(60))
        let took = ContinuousClock.now - signalled
        #expect(status == 130, "\(process.standardError)")
        // deploy/kubernetes sets terminationGracePeriodSeconds: 60; the cancel must take a small part of it.
        #expect(took < .seconds(15), "SIGTERM to exit took \(took)")
        print("sfpg: SIGTERM to exit took \(took)")
        let last = try world.connection.execute(
            "SELECT status FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id DESC LIMIT 1")
        #expect(last.rows.first?[0] == "cancelled")
        #expect(try gateway.value("sfpg_run_status", labels) == 0)
        #expect(try gateway.value("sfpg_run_exit_code", labels) == 130)
        #expect(try gateway.value("sfpg_last_success_timestamp_seconds", labels) == lastSuccess)
    }
}
