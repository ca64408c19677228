import Foundation
import SyncEngine
import Testing
import TestSupport

/// `sfpg` reads its settings by one rule and one duration grammar, in the environment and in job files alike.
@Suite("CLI: settings", .serialized)
struct CLISettingsTests {
    @Test("every duration setting takes 5min, 2min, 1m alike; padded values are trimmed")
    func durationFormsInTheEnvironment() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        let result = try world.sfpg(
            ["run", "contacts", "--full", "--jobs-directory", E2EFixture.jobsDirectory],
            environment: [
                "SF_REQUEST_TIMEOUT": "2min", "SF_PAGE_TIMEOUT": " 1h\n", "SF_LOW_SPEED_TIME": "1m",
                "SFPG_PG_LOCK_TIMEOUT": "5m", "SFPG_PG_CONNECT_TIMEOUT": "1min", "SFPG_PG_TCP_USER_TIMEOUT": "90s",
                "SFPG_SPOOL_DIR": "  ",
            ])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test(
        "a duration outside the grammar exits 2 naming the variable and the forms, before any Bulk job",
        arguments: [
            "SF_REQUEST_TIMEOUT", "SF_PAGE_TIMEOUT", "SF_LOW_SPEED_TIME", "SFPG_PG_LOCK_TIMEOUT",
            "SFPG_PG_CONNECT_TIMEOUT", "SFPG_PG_TCP_USER_TIMEOUT",
        ])
    func badDurationInTheEnvironment(variable: String) async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let result = try world.sfpg(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory], environment: [variable: "5 minutes"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(variable), "\(result.stderr)")
        #expect(result.stderr.contains("90s, 5m, 5min, 2h, 1d"), "\(result.stderr)")
        #expect(world.jobCreations.isEmpty)
    }

    @Test("a job file's overlap: 5min runs like overlap: 5m")
    func durationFormsInAJobFile() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let yaml = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8)
            .replacingOccurrences(of: "overlap: 5m", with: "overlap: 5min")
        #expect(yaml.contains("overlap: 5min"))
        let jobs = try CLIExitCodeTests.tempJobs(["contacts.yaml": yaml])
        let result = try world.sfpg(["run", "contacts", "--full", "--jobs-directory", jobs])
        #expect(result.status == 0, "\(result.stderr)")
    }
}
