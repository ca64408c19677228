import Foundation
import PostgresLoader
import Testing
import TestSupport

/// `sfpg check` is the run's pre-flight: on every broken configuration it fails with the code `sfpg run` then
/// exits with, and the run stops before its first Bulk job.
@Suite("CLI: check predicts the run", .serialized)
struct CLIPreflightTests {
    /// What a broken configuration changes: the job file, the database, the command line or the environment.
    struct Broken: CustomStringConvertible, Sendable {
        var description: String
        var expected: Int32
        var job: @Sendable (String) -> String = { $0 }
        var sql: String?
        var arguments: [String] = []
        var environment: [String: String] = [:]
        /// Another database: `nil` is the world's migrated one; "unmigrated" an empty one; otherwise the URL.
        var database: String?
        /// Words the failure must contain (run's stderr and check's report).
        var says: String?
        /// Runs a full sync first, then a sandbox refresh (the org changes under the job's table).
        var refreshedOrg = false
    }

    static let dropKey = "ALTER TABLE public.salesforce_contacts DROP CONSTRAINT salesforce_contacts_salesforce_id_key;"
    static let spoolFile = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-spool-is-a-file").path

    static let cases: [Broken] = [
        Broken(description: "missing table", expected: 2, job: { swap($0, "table: public.salesforce_contacts", "table: public.no_such_table") }, says: "no_such_table"),
        Broken(description: "missing column", expected: 2, sql: "ALTER TABLE public.salesforce_contacts DROP COLUMN title", says: "title"),
        Broken(description: "missing schema", expected: 2, job: { swap($0, "table: public.salesforce_contacts", "table: crm.contacts") }, says: "crm"),
        Broken(description: "no key index", expected: 2, sql: dropKey, says: "unique"),
        Broken(description: "partial key index", expected: 2, sql: dropKey + "CREATE UNIQUE INDEX ON public.salesforce_contacts (salesforce_id) WHERE NOT is_deleted", says: "unique"),
        Broken(description: "deferrable key index", expected: 2, sql: dropKey + "ALTER TABLE public.salesforce_contacts ADD UNIQUE (salesforce_id) DEFERRABLE", says: "non-deferrable"),
        Broken(description: "key index on two columns", expected: 2, sql: dropKey + "ALTER TABLE public.salesforce_contacts ADD UNIQUE (salesforce_id, email)", says: "exactly"),
        Broken(description: "timestamptz(0) modstamp", expected: 2, sql: "ALTER TABLE public.salesforce_contacts ALTER system_modstamp TYPE timestamptz(0)", says: "milliseconds"),
        Broken(description: "text modstamp", expected: 2, sql: "ALTER TABLE public.salesforce_contacts ALTER system_modstamp TYPE text", says: "timestamptz"),
        Broken(description: "spool directory is a file (--spool-dir)", expected: 2, arguments: ["--spool-dir", spoolFile], says: "--spool-dir"),
        Broken(description: "spool directory missing (SFPG_SPOOL_DIR)", expected: 2, environment: ["SFPG_SPOOL_DIR": "/nonexistent/sfpg-spool"], says: "SFPG_SPOOL_DIR"),
        Broken(description: "bad duration in the job", expected: 2, job: { swap($0, "overlap: 5m", "overlap: 5 fortnights") }, says: "overlap"),
        Broken(description: "bad duration in the environment", expected: 2, environment: ["SF_REQUEST_TIMEOUT": "soon"], says: "SF_REQUEST_TIMEOUT"),
        Broken(description: "wrong password", expected: 3, environment: ["SF_PASSWORD": "not-the-password"]),
        Broken(description: "unknown object", expected: 2, job: { swap($0, "object: Contact", "object: No_Such_Object__c") }, says: "No_Such_Object__c"),
        Broken(description: "unknown field (on_missing_field: fail)", expected: 2, job: { swap($0, "  Title: title", "  No_Such_Field__c: title") }, says: "No_Such_Field__c"),
        Broken(description: "bad SOQL in where:", expected: 2, job: { $0 + "where: \"Email LIKE AND\"\n" }),
        Broken(description: "wrong key (no unique index on it)", expected: 2, job: { swap($0, "key: Id", "key: Email") }, says: "email"),
        Broken(description: "unmigrated database", expected: 2, database: "unmigrated", says: "sfpg migrate"),
        Broken(description: "unreachable database", expected: 4, database: "postgresql://127.0.0.1:1/sfpg"),
        Broken(description: "malformed database URL", expected: 2, database: "postgresql://127.0.0.1:notaport/sfpg"),
        Broken(description: "org changed (a refreshed sandbox)", expected: 2, says: "--accept-new-org", refreshedOrg: true),
    ]

    static func swap(_ text: String, _ old: String, _ new: String) -> String {
        precondition(text.contains(old), "the job file no longer contains \(old)")
        return text.replacingOccurrences(of: old, with: new)
    }

    @Test("check and run agree on a broken configuration: same exit code, and no Bulk job", arguments: cases)
    func checkPredictsTheRun(broken: Broken) async throws {
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: Self.spoolFile))
        let world = try await E2EFixture { $0.contactCount = 10 }
        if let sql = broken.sql { try world.connection.executeScript(sql) }
        if broken.refreshedOrg {
            try world.sync(try world.job("contacts"), .full)
            _ = world.emulator.emulator.refreshOrg()
        }
        // Salesforce refusing a bad where: answers the creation with 400: no job exists.
        func created() -> Int { world.jobCreations.filter { ($0.status ?? 0) < 300 }.count }
        let createdBefore = created()
        let jobs = try CLIExitCodeTests.tempJobs(["contacts.yaml": broken.job(try CLIExitCodeTests.contactsYAML)])
        let database = switch broken.database {
        case nil: world.conninfo
        case "unmigrated": try TestPostgres.makeDatabase()
        case let url?: url
        }
        func sfpg(_ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try TestSyncProcess.run(
                command + ["--jobs-directory", jobs] + broken.arguments + ["--database-url", database],
                environment: world.environment.merging(broken.environment) { $1 })
        }
        let check = try sfpg(["check"])
        let run = try sfpg(["run", "contacts"])
        #expect(check.status == broken.expected, "check: \(check.stdout)\(check.stderr)")
        #expect(run.status == broken.expected, "run: \(run.stdout)\(run.stderr)")
        #expect(created() == createdBefore, "the run created a Bulk job: \(run.stderr)")
        if let words = broken.says {
            #expect(check.stdout.contains(words), "check: \(check.stdout)")
            #expect((run.stdout + run.stderr).contains(words), "run: \(run.stdout)\(run.stderr)")
        }
        #expect(!run.stderr.contains("Salesforce network"), "\(run.stderr)")
    }

    @Test("a wrong password with three jobs: one login, every job fails with exit 3, and check logs in once too")
    func oneLoginPerInvocation() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let wrong = ["SF_PASSWORD": "not-the-password"]
        let run = try world.sfpg(["run", "--jobs-directory", E2EFixture.jobsDirectory], environment: wrong)
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("3 of 3 jobs failed: 3 credentials"), "\(run.stdout)")
        #expect(tokenRequests(world) == 1)
        let check = try world.sfpg(["check", "--jobs-directory", E2EFixture.jobsDirectory], environment: wrong)
        #expect(check.status == 3, "\(check.stdout)")
        #expect(tokenRequests(world) == 2)
        #expect(world.jobCreations.isEmpty)
    }

    func tokenRequests(_ world: E2EFixture) -> Int {
        world.emulator.requests.filter { $0.path.hasSuffix("/oauth2/token") }.count
    }
}
