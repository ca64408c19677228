import Foundation
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// `sfpg run` killed with SIGKILL (no chance to clean up) at several points, then run again to completion.
@Suite("CLI: killed runs recover", .serialized)
struct CLIKillTests {
    static let runArguments = ["run", "contacts", "--wait-lock", "--jobs-directory", E2EFixture.jobsDirectory]

    /// Re-runs to completion and checks the table equals the org (what an uninterrupted run gives).
    static func rerunConverges(_ world: E2EFixture, _ extra: [String] = []) throws {
        let result = try world.sfpg(runArguments + extra)
        #expect(result.status == 0, "\(result.stderr)")
        let differences = try world.differences(try world.job("contacts"))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }

    @Test("killed while polling an incremental job: the next run reuses that Bulk job")
    func killedWhilePolling() async throws {
        let world = try await E2EFixture { $0.contactCount = 300 }
        try world.sync(try world.job("contacts"), .full)
        world.emulator.org.randomRound("Contact", seed: 3, inserts: 10, updates: 20, softDeletes: 5, undeletes: 0, hardDeletes: 0)
        // Few enough slow polls that the reused job completes quickly on the second run.
        world.emulator.faults.slowInProgress(polls: 3)
        let creations = world.jobCreations.count
        let process = try world.spawn(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        let recorded = try E2EFixture.waitUntil {
            let inFlight = try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL")
            return world.jobCreations.count > creations && inFlight == 1
        }
        #expect(recorded, "the run never recorded its Bulk job: \(process.standardError)")
        process.send(SIGKILL)
        #expect(process.wait() == 128 + SIGKILL)
        let leftover = try #require(
            try world.connection.execute("SELECT bulk_job_id FROM sfpg.sync_state WHERE job_name = 'contacts'").rows.first?.first ?? nil)

        try Self.rerunConverges(world)
        #expect(world.jobCreations.count == creations + 1, "the rerun created a new Bulk job instead of reusing \(leftover)")
        let used = try world.connection.execute(
            "SELECT salesforce_job_id FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id DESC LIMIT 1")
        #expect(used.rows.first?.first == leftover)
    }

    @Test("killed while polling, then the job file changes its fields: the next run still succeeds")
    func killedThenJobFileChanged() async throws {
        let world = try await E2EFixture { $0.contactCount = 300 }
        try world.sync(try world.job("contacts"), .full)
        world.emulator.org.randomRound("Contact", seed: 4, inserts: 10, updates: 20, softDeletes: 5, undeletes: 0, hardDeletes: 0)
        world.emulator.faults.slowInProgress(polls: 3)
        let process = try world.spawn(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        let recorded = try E2EFixture.waitUntil {
            try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 1
        }
        #expect(recorded, "the run never recorded its Bulk job: \(process.standardError)")
        process.send(SIGKILL)
        process.wait()

        // The leftover job selected the old field list; the edited job maps one field fewer.
        let yaml = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8)
            .replacingOccurrences(of: "  Department: department\n", with: "")
        let jobs = try CLIExitCodeTests.tempJobs(["contacts.yaml": yaml])
        let edited = try JobDefinition.load(file: jobs + "/contacts.yaml")
        // The leftover job selected the old field list: it is abandoned, not reused, and the run converges.
        let result = try world.sfpg(["run", "contacts", "--wait-lock", "--jobs-directory", jobs])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try world.differences(edited).isEmpty)
        let again = try world.sfpg(["run", "contacts", "--wait-lock", "--jobs-directory", jobs])
        #expect(again.status == 0, "\(again.stderr)")
        let differences = try world.differences(edited)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    @Test("killed while downloading a full sync: the next run abandons that job and converges")
    func killedWhileDownloading() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 1_500
            $0.defaultPageSize = 300
        }
        world.emulator.faults.setBandwidth(bytesPerSecond: 16_000)
        let process = try world.spawn(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        let downloading = E2EFixture.waitUntil { world.emulator.requests.contains { $0.path.hasSuffix("/results") } }
        #expect(downloading, "the run never started downloading: \(process.standardError)")
        usleep(300_000)
        #expect(process.isRunning, "the run finished before it could be killed mid-download")
        process.send(SIGKILL)
        #expect(process.wait() == 128 + SIGKILL)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        let leftover = try #require(
            try world.connection.execute("SELECT bulk_job_id FROM sfpg.sync_state WHERE job_name = 'contacts'").rows.first?.first ?? nil)
        world.emulator.faults.setBandwidth(bytesPerSecond: nil)

        try Self.rerunConverges(world)
        // A full run never reuses a job it cannot verify: the leftover is deleted (it had completed).
        #expect(world.jobIds(method: "DELETE").contains(leftover))
        #expect(world.jobCreations.count == 2)
    }

    @Test("killed while downloading an incremental run: the next run reuses the completed Bulk job")
    func killedWhileDownloadingIncremental() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 1_200
            $0.defaultPageSize = 250
        }
        try world.sync(try world.job("contacts"), .full)
        world.emulator.org.randomRound("Contact", seed: 13, inserts: 300, updates: 500, softDeletes: 40, undeletes: 5, hardDeletes: 0)
        world.emulator.faults.setBandwidth(bytesPerSecond: 16_000)
        let pagesBefore = world.emulator.requests.filter { $0.path.hasSuffix("/results") }.count
        let creations = world.jobCreations.count
        let process = try world.spawn(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        let downloading = E2EFixture.waitUntil {
            world.emulator.requests.filter { $0.path.hasSuffix("/results") }.count > pagesBefore
        }
        #expect(downloading, "the run never started downloading: \(process.standardError)")
        usleep(200_000)
        #expect(process.isRunning, "the run finished before it could be killed mid-download")
        process.send(SIGKILL)
        process.wait()
        world.emulator.faults.setBandwidth(bytesPerSecond: nil)
        let leftover = try #require(
            try world.connection.execute("SELECT bulk_job_id FROM sfpg.sync_state WHERE job_name = 'contacts'").rows.first?.first ?? nil)

        try Self.rerunConverges(world)
        #expect(world.jobCreations.count == creations + 1, "the rerun did not reuse \(leftover)")
        let used = try world.connection.execute(
            "SELECT salesforce_job_id FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id DESC LIMIT 1")
        #expect(used.rows.first?.first == leftover)
    }

    @Test("killed right after start: the next run converges")
    func killedRightAfterStart() async throws {
        let world = try await E2EFixture { $0.contactCount = 300 }
        world.emulator.faults.setLatency(.milliseconds(100))
        let process = try world.spawn(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory])
        usleep(150_000)
        process.send(SIGKILL)
        #expect(process.wait() == 128 + SIGKILL)
        world.emulator.faults.setLatency(nil)
        try Self.rerunConverges(world)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'success'") == 1)
    }
}
