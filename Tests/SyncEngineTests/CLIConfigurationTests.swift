import Foundation
import PostgresLoader
import SyncEngine
import Testing
import TestSupport

/// Configuration mistakes on the command line: documented exit codes, no secret in the message.
@Suite("CLI: configuration mistakes", .serialized)
struct CLIConfigurationTests {
    @Test("a database URL with a password that cannot connect exits 4 without printing the password")
    func databasePasswordNotPrinted() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let password = "Sup3r-Secret-Db-Pw"
        let result = try TestSyncProcess.run(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--log-level", "trace",
             "--database-url", "postgresql://sfpg:\(password)@127.0.0.1:1/x"],
            environment: world.environment)
        #expect(result.status == 4, "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains(password))
        #expect(!result.stderr.isEmpty)
    }

    @Test("an unmigrated database exits 2, says to run sfpg migrate, and creates nothing")
    func unmigratedDatabase() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let empty = try TestPostgres.makeDatabase()
        let result = try TestSyncProcess.run(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--database-url", empty],
            environment: world.environment)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("sfpg migrate"), "\(result.stderr)")
        let connection = try PostgresConnection(empty, applicationName: "sfpg-tests")
        let tables = try connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
        #expect(tables.rows.first?.first == "0")
        #expect(world.jobCreations.isEmpty)
    }

    @Test("an unknown job name exits 2 and lists the jobs there are")
    func unknownJob() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let before = world.fingerprint()
        let result = try world.sfpg(["run", "contcts", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("contcts") && result.stderr.contains("contacts"), "\(result.stderr)")
        #expect(world.fingerprint() == before)
    }

    @Test("--full with --incremental is a bad command line: exit 64")
    func conflictingFlags() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let result = try world.sfpg(["run", "contacts", "--full", "--incremental", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains("--full"))
        #expect(world.jobCreations.isEmpty)
    }
    @Test("a session time zone and date style far from UTC change nothing: full then incremental converge")
    func foreignSessionSettings() async throws {
        let world = try await E2EFixture { $0.contactCount = 200 }
        let odd = ["PGTZ": "Pacific/Chatham", "PGDATESTYLE": "SQL, DMY"]
        let arguments = ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory]
        let full = try world.sfpg(arguments, environment: odd)
        #expect(full.status == 0, "\(full.stderr)")
        world.emulator.org.randomRound("Contact", seed: 17, inserts: 9, updates: 15, softDeletes: 4, undeletes: 1, hardDeletes: 0)
        let incremental = try world.sfpg(arguments, environment: odd)
        #expect(incremental.status == 0, "\(incremental.stderr)")
        let differences = try world.differences(try world.job("contacts"))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        let types = try world.connection.execute(
            "SELECT sync_type FROM sfpg.sync_logs WHERE job_name = 'contacts' ORDER BY id").rows.map { $0[0] ?? "" }
        #expect(types == ["full", "incremental"])
        let status = try world.sfpg(["status", "--json", "--jobs-directory", E2EFixture.jobsDirectory], environment: odd)
        let modstampIndex = try #require(try world.job("contacts").fields.firstIndex { $0.source == "SystemModstamp" })
        let newest = try #require(world.truth(try world.job("contacts")).compactMap { $0[modstampIndex] }.max())
        #expect(status.stdout.contains(newest), "\(status.stdout)")
    }

    @Test("--dry-run prints the SOQL and the merge, creates no Bulk job and changes nothing")
    func dryRun() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        try world.sync(try world.job("contacts"), .full)
        let before = world.fingerprint()
        let creations = world.jobCreations.count
        let result = try world.sfpg(["run", "contacts", "--dry-run", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("FROM Contact") && result.stdout.contains("SystemModstamp >="), "\(result.stdout)")
        #expect(result.stdout.contains("ON CONFLICT"))
        #expect(world.jobCreations.count == creations)
        #expect(world.fingerprint() == before)
    }
}
