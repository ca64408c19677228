import Foundation
import PostgresLoader
import Testing
import TestSupport

@testable import SyncEngine

/// README's exit-code table as a scheduler sees it: one mapping from typed errors, the same for every command.
@Suite("CLI: the exit-code table", .serialized)
struct CLIExitCodeTableTests {
    @Test(
        "a database URL that fails the same way every time exits 2, not 4 (retry later)",
        arguments: [["dbname": "sfpg_no_such_database"], ["user": "sfpg_no_such_role"], ["port": "not-a-port"]])
    func permanentDatabaseFailures(overrides: [String: String]) async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let url = try PostgresConnection.conninfo(world.conninfo, overriding: overrides)
        let result = try TestSyncProcess.run(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--database-url", url],
            environment: world.environment)
        #expect(result.status == 2, "\(overrides): \(result.stderr)")
        #expect(result.stderr.contains("a retry will not help"), "\(result.stderr)")
        #expect(world.jobCreations.isEmpty)
    }

    @Test("describe of an object Salesforce does not have exits 2")
    func describeUnknownObject() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let result = try world.sfpg(["describe", "No_Such_Object__c"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("No_Such_Object__c"), "\(result.stderr)")
    }

    @Test("describe --alter on a missing table is a schema condition: exit 2, no usage text")
    func describeAlterMissingTable() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let result = try world.sfpg(["describe", "Contact", "--table", "public.no_such_table", "--alter"])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("does not exist"), "\(result.stderr)")
        #expect(!result.stderr.contains("USAGE"), "\(result.stderr)")
    }

    @Test("a Salesforce certificate sfpg cannot verify exits 2 (a CA setting to fix), not 1")
    func tlsTrustFailure() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 10
            $0.tls = true
        }
        let result = try world.sfpg(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory],
            environment: ["SF_CA_BUNDLE": "", "CURL_CA_BUNDLE": "", "SSL_CERT_FILE": ""])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("SF_CA_BUNDLE"), "\(result.stderr)")
    }

    @Test("sfpg check takes the most severe of its failures, not the first: wrong credentials (3) beat a database down (4)")
    func checkTakesTheMostSevere() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let result = try TestSyncProcess.run(
            ["check", "--jobs-directory", E2EFixture.jobsDirectory, "--database-url", "postgresql://127.0.0.1:1/x"],
            environment: world.environment.merging(["SF_PASSWORD": "not-the-password"]) { $1 })
        #expect(result.stdout.contains("FAIL  database"), "\(result.stdout)")
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
    }

    @Test("jobs that fail differently: the most severe code wins, and a closing line counts them by reason")
    func mostSevereWins() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let contacts = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8)
            .replacingOccurrences(of: "table: public.salesforce_contacts", with: "table: public.no_such_table")
        #expect(contacts.contains("public.no_such_table"))
        let accounts = try String(contentsOfFile: E2EFixture.jobsDirectory + "/accounts.yaml", encoding: .utf8)
        let jobs = try CLIExitCodeTests.tempJobs(["contacts.yaml": contacts, "accounts.yaml": accounts])
        let holder = try PostgresConnection(world.conninfo, applicationName: "sfpg-test-lock")
        try holder.execute("SELECT pg_advisory_lock(hashtext('sfpg'), hashtext('accounts'))")
        let result = try world.sfpg(["run", "contacts", "accounts", "--jobs-directory", jobs])
        #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("2 of 2 jobs failed: 1 schema, 1 lock"), "\(result.stdout)")
    }
}

/// The mapping itself, without processes.
@Suite struct ExitReasonTests {
    @Test func severityOrderDecidesAndEveryCodeIsRanked() {
        #expect(Set(SyncEngine.ExitStatus.severityOrder) == Set(SyncEngine.ExitStatus.allCases))
        #expect(SyncEngine.ExitStatus.combined([.lockHeld, .failure]) == .failure)
        #expect(SyncEngine.ExitStatus.combined([.databaseUnavailable, .apiLimit, .lockHeld]) == .apiLimit)
        #expect(SyncEngine.ExitStatus.combined([.failure, .authentication, .configuration]) == .configuration)
        #expect(SyncEngine.ExitStatus.combined([.success, .success]) == .success)
    }

    @Test func missingTablesAndColumnsAreSchemaProblems() {
        for state in ["42P01", "42703", "3F000"] {
            #expect(ExitReason(for: PostgresError(.query, "x", sqlState: state)) == .schema)
        }
        #expect(ExitReason(for: PostgresError(.query, "x", sqlState: "22P02")) == .failure)
        #expect(SyncEngine.ExitStatus(for: PostgresError(.authentication, "x")) == .authentication)
    }

    @Test func theClosingLineCountsFailedJobsByReason() {
        func outcome(_ job: String, _ status: SyncEngine.ExitStatus, _ reason: ExitReason? = nil) -> JobOutcome {
            JobOutcome(job: job, status: status, seconds: 0, reason: reason)
        }
        let outcomes = [outcome("a", .authentication, .credentials), outcome("b", .success), outcome("c", .configuration, .schema)]
        #expect(JobOutcome.failureSummary(outcomes) == "2 of 3 jobs failed: 1 schema, 1 credentials")
        #expect(JobOutcome.failureSummary([outcome("a", .success)]) == nil)
        #expect(JobOutcome.failureSummary([outcome("a", .lockHeld)]) == "1 of 1 job failed: 1 lock")
    }
}
