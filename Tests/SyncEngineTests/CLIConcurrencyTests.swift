import Foundation
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// Two `sfpg run` processes for the same job at once: the advisory lock serializes them.
@Suite("CLI: concurrent runs", .serialized)
struct CLIConcurrencyTests {
    @Test("a second run while the first is in progress exits 5; with --wait-lock it waits, then both converge")
    func concurrentRuns() async throws {
        let world = try await E2EFixture { $0.contactCount = 300 }
        try world.sync(try world.job("contacts"), .full)
        world.emulator.org.randomRound("Contact", seed: 21, inserts: 10, updates: 10, softDeletes: 3, undeletes: 0, hardDeletes: 2)
        world.emulator.faults.slowInProgress(polls: 2)
        let arguments = ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory]
        let first = try world.spawn(arguments)
        let holding = try E2EFixture.waitUntil {
            try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 1
        }
        #expect(holding, "the first run never got going: \(first.standardError)")

        let refused = try world.sfpg(arguments)
        #expect(refused.status == 5, "\(refused.stderr)")
        let waiting = try world.spawn(arguments + ["--wait-lock"])
        #expect(first.wait() == 0, "\(first.standardError)")
        #expect(waiting.wait() == 0, "\(waiting.standardError)")

        let differences = try world.differences(try world.job("contacts"), tolerating: [])
            .filter { !$0.contains("in the table but not expected") }
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        let statuses = try world.connection.execute(
            "SELECT status FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id").rows.map { $0[0] ?? "" }
        #expect(statuses == ["success", "success", "success"])
        // The waiting run started after the first committed, so it had nothing left to reuse.
        #expect(world.jobCreations.count == 3)
    }
    @Test("when one job fails and another is misconfigured, the exit code is the configuration error (2)")
    func configurationOutranksFailure() async throws {
        let world = try await E2EFixture { $0.contactCount = 100 }
        let contacts = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8)
        let accounts = try String(contentsOfFile: E2EFixture.jobsDirectory + "/accounts.yaml", encoding: .utf8)
            .replacingOccurrences(of: "  Rating: rating", with: "  Ratings__c: rating")
        let jobs = try CLIExitCodeTests.tempJobs(["contacts.yaml": contacts, "accounts.yaml": accounts])
        world.emulator.faults.failJobs(count: 1, errorMessage: "InternalServerError")
        let result = try world.sfpg(["run", "contacts", "accounts", "--jobs-directory", jobs])
        #expect(result.stderr.contains("Ratings__c") || result.stdout.contains("Ratings__c"), "\(result.stderr)")
        // ExitStatus.combined documents that configuration and credential problems outrank a failed job.
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
    }
}
