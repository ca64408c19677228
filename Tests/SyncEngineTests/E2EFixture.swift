import Foundation
import Logging
import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// One end-to-end world: an in-process emulator on loopback, a fresh migrated database, and the repository's
/// job files. Runs go through the real libcurl client and libpq, in-process (``runner()``) or as the `sfpg`
/// executable (``sfpg(_:)``).
final class E2EFixture {
    let emulator: TestEmulator
    let conninfo: String
    /// For the test's own reads and writes; runs use their own connections.
    let connection: PostgresConnection

    static let jobsDirectory = TestBinaries.repositoryRoot + "/jobs"
    static let allTables = [
        "public.salesforce_contacts", "public.salesforce_accounts", "public.salesforce_opportunities",
        "sfpg.sync_state", "sfpg.sync_logs",
    ]

    init(_ configure: (inout EmulatorConfiguration) -> Void = { _ in }) async throws {
        emulator = try await TestEmulator.start {
            $0.contactCount = 300
            configure(&$0)
        }
        (conninfo, connection) = try TestPostgres.makeMigratedDatabase()
    }

    var configuration: EmulatorConfiguration { emulator.configuration }
    /// The SF_* variables of the username-password grant against this emulator.
    var environment: [String: String] { emulator.environment }
    /// Every secret the emulator knows, for leak checks.
    var secrets: [String] { emulator.secrets }

    func job(_ name: String) throws -> JobDefinition {
        try JobDefinition.load(file: Self.jobsDirectory + "/\(name).yaml")
    }

    /// A runner with its own connection and a fast-polling client; `configure` adjusts the client further.
    func runner(
        cancellation: CancellationFlag = CancellationFlag(), environment: [String: String]? = nil,
        logger: Logger = Logger(label: "e2e") { _ in SwiftLogNoOpLogHandler() },
        configure: (inout SalesforceConfiguration) -> Void = { _ in }
    ) throws -> SyncRunner {
        var salesforce = try SalesforceConfiguration.fromEnvironment(environment ?? self.environment)
        salesforce.pollInitialInterval = .milliseconds(20)
        salesforce.pollMaxInterval = .milliseconds(100)
        salesforce.retryBaseDelay = .milliseconds(10)
        salesforce.retryMaxDelay = .milliseconds(50)
        configure(&salesforce)
        let client = SalesforceClient(configuration: salesforce, cancellation: cancellation, logger: logger)
        return SyncRunner(
            connection: try PostgresConnection(conninfo, applicationName: "sfpg-e2e"), client: client,
            cancellation: cancellation, logger: logger)
    }

    /// Runs `job` in-process and requires success.
    @discardableResult
    func sync(_ job: JobDefinition, _ mode: SyncMode?, runner: SyncRunner? = nil) throws -> JobOutcome {
        let outcome = try (runner ?? self.runner()).run(job, options: SyncOptions(mode: mode))
        #expect(outcome.status == .success, "\(job.name) \(mode?.rawValue ?? "auto") run: \(outcome.error ?? "")")
        return outcome
    }

    /// Runs the `sfpg` executable with the emulator's environment and `--database-url`.
    func sfpg(
        _ arguments: [String], environment extra: [String: String] = [:], timeout: Duration = .seconds(60)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestSyncProcess.run(
            arguments + ["--database-url", conninfo], environment: environment.merging(extra) { $1 }, timeout: timeout)
    }

    /// Starts `sfpg` without waiting for it.
    func spawn(_ arguments: [String], environment extra: [String: String] = [:]) throws -> TestSyncProcess {
        try TestSyncProcess(try TestBinaries.path("sfpg"), arguments + ["--database-url", conninfo], environment: environment.merging(extra) { $1 })
    }

    /// The emulator's current records of the job's object (soft-deleted ones too), in the job's field order.
    func truth(_ job: JobDefinition) -> [[String?]] {
        emulator.org.truth(job.object, fields: job.fields.map(\.source), includeDeleted: true)
    }

    /// The job's table in the truth's text form, keyed by the key column.
    func table(_ job: JobDefinition) throws -> [String: [String?]] {
        try TestSyncTables.rows(
            connection, table: "\(job.table.schema ?? "public").\(job.table.name)", keyColumn: keyColumn(job), columns: job.fields.map(\.column))
    }

    func keyColumn(_ job: JobDefinition) -> String {
        job.fields.first { $0.source.lowercased() == job.key.lowercased() }!.column
    }

    /// Differences between the table and what it should hold: every truth record (soft-deleted ones with
    /// `is_deleted` true for `deletes: soft`; absent for `deletes: hard`), ignoring table keys in `tolerated`.
    func differences(_ job: JobDefinition, tolerating tolerated: Set<String> = []) throws -> [String] {
        var expected = truth(job)
        let deletedIndex = job.fields.firstIndex { $0.source == JobDefinition.isDeletedField }
        if job.deletes == .hard, let deletedIndex {
            expected.removeAll { $0[deletedIndex] == "true" }
        }
        let actual = try table(job).filter { !tolerated.contains($0.key) }
        return TestSyncTables.differences(expected: expected, actual: actual, fields: job.fields.map(\.source))
    }

    func count(_ sql: String) throws -> Int {
        Int(try connection.execute(sql).rows.first?.first.flatMap { $0 } ?? "") ?? -1
    }

    func fingerprint() -> [String: String] { TestSyncTables.fingerprint(connection, tables: Self.allTables) }

    /// Requests the emulator logged that created Bulk query jobs.
    var jobCreations: [RecordedRequest] {
        emulator.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/jobs/query") }
    }

    /// Job ids that got an abort (`PATCH …/jobs/query/{id}`) or a delete.
    func jobIds(method: String) -> [String] {
        emulator.requests.filter { $0.method == method && $0.path.contains("/jobs/query/") }
            .map { String($0.path.split(separator: "/").last ?? "") }
    }

    /// Polls `condition` every 10 ms for up to `timeout`.
    static func waitUntil(timeout: Duration = .seconds(20), _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            usleep(10_000)
        }
        return try condition()
    }
}
