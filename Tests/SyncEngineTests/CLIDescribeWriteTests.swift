import Foundation
import PostgresLoader
import Testing
import TestSupport

/// `sfpg describe --write-job` / `--apply`: what is missing is created in order, or nothing is written at all.
@Suite("CLI: describe writes a job", .serialized)
struct CLIDescribeWriteTests {
    /// Not created: the tests check that sfpg creates it.
    static func scratch() throws -> String { try ScratchDirectory.make("sfpg-describe", create: false) }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test("a missing directory and schema are created; <job>.sql beside the job is what sfpg migrate applies")
    func createsDirectorySchemaAndSQL() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let directory = try Self.scratch() + "/nested/jobs"
        let written = try world.sfpg([
            "describe", "Contact", "--fields", "FirstName,Email", "--table", "crm.contacts", "--write-job",
            directory + "/crm.yaml", "--apply",
        ])
        #expect(written.status == 0, "\(written.stderr)")
        #expect(exists(directory + "/crm.yaml") && exists(directory + "/crm.sql"))
        #expect(try world.count("SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass('crm.contacts') AND attnum > 0") > 4)
        let run = try world.sfpg(["run", "crm", "--jobs-directory", directory])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(try world.count("SELECT count(*) FROM crm.contacts") == 10)

        let fresh = try TestPostgres.makeDatabase()
        let migrated = try TestSyncProcess.run(
            ["migrate", "--jobs-directory", directory, "--database-url", fresh], environment: world.environment)
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let check = try PostgresConnection(fresh, applicationName: "sfpg-test")
        #expect(try check.execute("SELECT to_regclass('crm.contacts') IS NOT NULL AS t")[0, "t"] == "t")
    }

    @Test("an existing job file is not overwritten without --force")
    func refusesToOverwrite() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let directory = try Self.scratch()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "mine\n".write(toFile: directory + "/crm.yaml", atomically: true, encoding: .utf8)
        let arguments = ["describe", "Contact", "--fields", "Email", "--table", "crm_contacts", "--write-job", directory + "/crm.yaml"]
        let refused = try world.sfpg(arguments)
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: directory + "/crm.yaml", encoding: .utf8) == "mine\n")
        #expect(!exists(directory + "/crm.sql"))
        let forced = try world.sfpg(arguments + ["--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try String(contentsOfFile: directory + "/crm.yaml", encoding: .utf8).contains("object: Contact"))
    }

    @Test("a directory that cannot be created, or a table of another shape: exit 2 before anything is written")
    func failsBeforeWriting() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let file = try Self.scratch()
        try "a file, not a directory".write(toFile: file, atomically: true, encoding: .utf8)
        let blocked = try world.sfpg([
            "describe", "Contact", "--fields", "Email", "--table", "crm.blocked", "--write-job", file + "/jobs/crm.yaml", "--apply",
        ])
        #expect(blocked.status == 2, "\(blocked.stderr)")
        #expect(!blocked.stderr.contains("NSCocoaErrorDomain"), "\(blocked.stderr)")
        #expect(try world.count("SELECT count(*) FROM pg_namespace WHERE nspname = 'crm'") == 0)

        try world.connection.execute("CREATE TABLE crm_contacts (salesforce_id varchar(18) PRIMARY KEY, email integer)")
        let directory = try Self.scratch()
        let shape = try world.sfpg([
            "describe", "Contact", "--fields", "Email", "--table", "crm_contacts", "--write-job", directory + "/crm.yaml", "--apply",
        ])
        #expect(shape.status == 2, "\(shape.stderr)")
        #expect(shape.stderr.contains("another shape"), "\(shape.stderr)")
        #expect(!exists(directory), "nothing written")
    }

    @Test("--alter --apply adds the missing columns")
    func alterApplies() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        try world.connection.execute(
            "CREATE TABLE crm_contacts (salesforce_id varchar(18) PRIMARY KEY, system_modstamp timestamptz NOT NULL)")
        let altered = try world.sfpg(["describe", "Contact", "--fields", "Email,Title", "--table", "crm_contacts", "--alter", "--apply"])
        #expect(altered.status == 0, "\(altered.stderr)")
        #expect(altered.stdout.contains("--   Email: email"), "\(altered.stdout)")
        #expect(try world.count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'crm_contacts'::regclass AND attname IN ('email', 'title')") == 2)
    }
}
