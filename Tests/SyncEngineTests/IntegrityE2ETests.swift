import Foundation
import Logging
import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// Issue #9 end to end: a server that misbehaves the way networks and orgs do must never end in a committed run
/// with rows missing, wrong or wrongly deleted. Each fault runs on both download paths: the sequential locator
/// chain (1 connection) and the parallel resultPages download (4 connections).
@Suite("Integrity: no silent loss", .timeLimit(.minutes(3)))
struct IntegrityE2ETests {
    static let connections = [1, 4]

    /// 300 Contacts over 3 pages, a fast-retrying runner with `maxRetries` retries.
    static func world() async throws -> E2EFixture {
        try await E2EFixture {
            $0.contactCount = 300
            $0.defaultPageSize = 100
        }
    }

    static func runner(_ world: E2EFixture, maxRetries: Int = 3) throws -> SyncRunner {
        var salesforce = try SalesforceConfiguration.fromEnvironment(world.environment)
        salesforce.pollInitialInterval = .milliseconds(20)
        salesforce.pollMaxInterval = .milliseconds(100)
        salesforce.retryBaseDelay = .milliseconds(5)
        salesforce.retryMaxDelay = .milliseconds(20)
        salesforce.maxRetries = maxRetries
        let logger = Logger(label: "integrity") { _ in SwiftLogNoOpLogHandler() }
        let client = SalesforceClient(configuration: salesforce, logger: logger)
        return SyncRunner(
            connection: try PostgresConnection(world.conninfo), client: client, cancellation: CancellationFlag(),
            logger: logger)
    }

    static func run(
        _ world: E2EFixture, _ runner: SyncRunner, _ mode: SyncMode?, connections: Int, allowMassDelete: Bool = false
    ) throws -> JobOutcome {
        var job = try world.job("contacts")
        job.pageSize = 100
        return runner.run(job, options: SyncOptions(mode: mode, downloadConnections: connections, allowMassDelete: allowMassDelete))
    }

    static func lastLog(_ world: E2EFixture) throws -> [String?] {
        try world.connection.execute(
            """
            SELECT status, failure_reason, records_expected::text, records_downloaded::text, records_processed::text
            FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1
            """).rows.first ?? []
    }

    /// What a refused run may change: only the run log, and the in-flight Bulk job it recorded and cleared again.
    static func snapshot(_ world: E2EFixture) throws -> [String?] {
        let tables = world.fingerprint()
        let state = try world.connection.execute(
            "SELECT watermark::text, bulk_job_id, last_run_id::text, last_full_sync_at::text FROM sfpg.sync_state").rows
        return [tables["public.salesforce_contacts"], tables["public.salesforce_accounts"], "\(state)"]
    }

    static func unchanged(_ world: E2EFixture, since before: [String?]) throws -> Bool {
        try snapshot(world) == before
    }

    // Finding 1: a 200 page that decodes to zero bytes although Sforce-NumberOfRecords said otherwise.
    @Test(arguments: connections)
    func emptyGzipPageIsFetchedAgainNotSkipped(connections: Int) async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world)
        world.emulator.faults.emptyGzipPage(count: 1)
        let outcome = try Self.run(world, runner, .full, connections: connections)
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        #expect(try world.differences(try world.job("contacts")).isEmpty)
        #expect(try Self.lastLog(world) == ["success", nil, "300", "300", "300"])
    }

    @Test(arguments: connections)
    func persistentlyEmptyPageFailsTheRunAndCommitsNothing(connections: Int) async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world, maxRetries: 2)
        world.emulator.faults.emptyGzipPage(count: 100)
        let outcome = try Self.run(world, runner, .full, connections: connections)
        #expect(outcome.status == .failure)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE watermark IS NOT NULL") == 0)
        #expect(try Self.lastLog(world).first == "failed")
    }

    // Finding 2: a page cut right after a delimiter of its last record must not load that field as NULL.
    @Test(arguments: connections)
    func pageCutAfterADelimiterIsFetchedAgain(connections: Int) async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world)
        world.emulator.faults.cutAfterDelimiter(count: 2)
        let outcome = try Self.run(world, runner, .full, connections: connections)
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        let differences = try world.differences(try world.job("contacts"))
        #expect(differences.isEmpty, "\(differences.prefix(3))")
    }

    // Finding 1 (the run half): a result chain that ends early, consistent page by page, is caught by the totals.
    @Test(arguments: connections)
    func shortTotalFailsWithTheThreeNumbersAndSweepsNothing(connections: Int) async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world)
        #expect(try Self.run(world, runner, .full, connections: connections).status == .success)
        let before = try Self.snapshot(world)
        world.emulator.faults.shortTotal(jobs: 1)
        let outcome = try Self.run(world, runner, .full, connections: connections)
        #expect(outcome.status == .failure)
        #expect(outcome.error?.contains("Salesforce reported 300 records, the 2 result pages delivered 200, and 200 rows were staged") == true, "\(outcome.error ?? "")")
        #expect(try Self.unchanged(world, since: before))
        let log = try Self.lastLog(world)
        #expect(log[0] == "failed")
        #expect(log[1] == "incomplete")
        #expect(log[2] == "300")
        #expect(log[3] == "200")
        #expect(log[4] == "200")
        // sfpg status shows it.
        let status = try world.sfpg(["status", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(status.stdout.contains("300 expected (Salesforce)"), "\(status.stdout)")
        #expect(status.stdout.contains("MISMATCH"))
        #expect(status.stdout.contains("refused:    incomplete"))
    }

    // Finding 9: a locator (or resultPages link) chain that loops ends in an error, not forever.
    @Test(arguments: connections)
    func loopingLocatorFailsTheRun(connections: Int) async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world, maxRetries: 1)
        world.emulator.faults.loopLocator(count: 50)
        let outcome = try Self.run(world, runner, .full, connections: connections)
        #expect(outcome.status == .failure)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }

    // Finding 8: retries running out mid-page leave no COPY open: the failed run logs its row and the next job of
    // the same invocation runs on a clean connection.
    @Test(arguments: connections)
    func exhaustedRetriesMidPageLeaveTheConnectionClean(connections: Int) async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world, maxRetries: 2)
        world.emulator.faults.resetConnectionMidBody(count: 100, afterBytes: 2_000)
        var contacts = try world.job("contacts")
        contacts.pageSize = 100
        let failed = runner.run(contacts, options: SyncOptions(mode: .full, downloadConnections: connections))
        #expect(failed.status == .failure)
        // The same runner, on the same database connection, goes on with the next job.
        world.emulator.faults.clear()
        let accounts = runner.run(try world.job("accounts"), options: SyncOptions(mode: .full, downloadConnections: connections))
        #expect(accounts.status == .success, "\(accounts.error ?? "")")
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'contacts' AND status = 'failed'") == 1)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_accounts") > 0)
    }

    // Findings 3 and 4: records hidden from the integration user look deleted; the sweep is bounded, reversible.
    @Test(arguments: connections)
    func hiddenRecordsAreNotMassDeletedAndComeBack(connections: Int) async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world)
        #expect(try Self.run(world, runner, .full, connections: connections).status == .success)
        let hidden = Array(world.emulator.org.ids("Contact", includeDeleted: false).prefix(90))
        world.emulator.org.hide("Contact", ids: hidden)
        let before = try Self.snapshot(world)

        let refused = try Self.run(world, runner, .full, connections: connections)
        #expect(refused.status == .failure)
        #expect(refused.error?.contains("mark deleted 90 of") == true, "\(refused.error ?? "")")
        #expect(refused.error?.contains("--allow-mass-delete") == true)
        #expect(try Self.unchanged(world, since: before))

        let allowed = try Self.run(world, runner, .full, connections: connections, allowMassDelete: true)
        #expect(allowed.status == .success, "\(allowed.error ?? "")")
        #expect(allowed.summary?.counts.deleted == 90)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE is_deleted AND deleted_at IS NOT NULL") >= 90)

        // Shown again, unchanged (same SystemModstamp): every swept row is live again, on an incremental run too.
        world.emulator.org.unhide("Contact", ids: hidden)
        let revived = try Self.run(world, runner, .full, connections: connections)
        #expect(revived.status == .success, "\(revived.error ?? "")")
        let differences = try world.differences(try world.job("contacts"))
        #expect(differences.isEmpty, "\(differences.prefix(3))")
    }

    /// A job whose watermark is a nullable custom datetime (Contact.Last_Survey__c, null in ~40% of records).
    static func surveyJob(_ world: E2EFixture) throws -> JobDefinition {
        try world.connection.execute(
            """
            CREATE TABLE public.survey_contacts (salesforce_id varchar(18) NOT NULL UNIQUE, last_survey timestamptz,
                is_deleted boolean, first_name text, deleted_at timestamptz)
            """)
        return try JobDefinition.parse(
            yaml: """
                object: Contact
                table: public.survey_contacts
                fields:
                  Id: salesforce_id
                  Last_Survey__c: last_survey
                  IsDeleted: is_deleted
                  FirstName: first_name
                watermark: Last_Survey__c
                deletes: soft
                """, name: "surveys", file: "surveys.yaml")
    }

    // Finding 9: a watermark field whose values may be NULL or lie in the future.
    @Test func nullableAndFutureWatermarkValuesNeitherFreezeRowsNorIncrementalRuns() async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world)
        let job = try Self.surveyJob(world)
        let full = runner.run(job, options: SyncOptions(mode: .full, downloadConnections: 1))
        #expect(full.status == .success, "\(full.error ?? "")")
        let nullRows = try world.count("SELECT count(*) FROM public.survey_contacts WHERE last_survey IS NULL")
        #expect(nullRows > 0)

        // A row without a watermark value is still updated when Salesforce returns a new version of it.
        let frozen = try world.connection.execute(
            "SELECT salesforce_id FROM public.survey_contacts WHERE last_survey IS NULL LIMIT 1").rows[0][0]!
        world.emulator.org.update("Contact", id: frozen, fields: ["FirstName": "Thawed"])
        #expect(runner.run(job, options: SyncOptions(mode: .full, downloadConnections: 1)).status == .success)
        #expect(try world.connection.execute(
            "SELECT first_name FROM public.survey_contacts WHERE salesforce_id = $1", [frozen]).rows[0][0] == "Thawed")

        // One value in 2099 would stop incremental runs until then if it became the watermark. It cannot: the
        // watermark never passes the creation of the Bulk job that read it.
        let future = world.emulator.org.ids("Contact", includeDeleted: false)[7]
        world.emulator.org.update("Contact", id: future, fields: ["Last_Survey__c": "2099-01-01T00:00:00.000Z"])
        let loaded = runner.run(job, options: SyncOptions(mode: .incremental, downloadConnections: 1))
        #expect(loaded.status == .success, "\(loaded.error ?? "")")
        #expect(try world.value("SELECT watermark < now() + interval '1 minute' FROM sfpg.sync_state WHERE job_name = 'surveys'") == "t")
        #expect(try world.value("SELECT last_survey::text FROM public.survey_contacts WHERE salesforce_id = $1", [future])?.hasPrefix("2099") == true)
        // And the next incremental run still reads what changes after it.
        let later = world.emulator.org.ids("Contact", includeDeleted: false)[9]
        world.emulator.org.update("Contact", id: later, fields: ["FirstName": "Later", "Last_Survey__c": "2030-01-01T00:00:00.000Z"])
        #expect(runner.run(job, options: SyncOptions(mode: .incremental, downloadConnections: 1)).status == .success)
        #expect(try world.value("SELECT first_name FROM public.survey_contacts WHERE salesforce_id = $1", [later]) == "Later")
    }

    @Test func aWatermarkFieldThatIsNotADatetimeIsAConfigurationError() async throws {
        let world = try await Self.world()
        let runner = try Self.runner(world)
        let job = try JobDefinition.parse(
            yaml: """
                object: Contact
                table: public.salesforce_contacts
                fields:
                  Id: salesforce_id
                  Birthdate: system_modstamp
                  IsDeleted: is_deleted
                watermark: Birthdate
                """, name: "birthdays", file: "birthdays.yaml")
        let outcome = runner.run(job, options: SyncOptions(mode: .full))
        #expect(outcome.status == .configuration)
        #expect(outcome.error?.contains("must be a datetime") == true, "\(outcome.error ?? "")")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }

    /// Issue #10, finding 9: a Bulk job that was created but could not be recorded (a database error) is aborted and
    /// deleted at once: no later run would know to.
    @Test func aBulkJobThatCouldNotBeRecordedIsAbortedAtOnce() async throws {
        let world = try await Self.world()
        try world.connection.execute(
            """
            CREATE FUNCTION public.refuse_bulk_job() RETURNS trigger LANGUAGE plpgsql AS
                $$ BEGIN IF NEW.bulk_job_id IS NOT NULL THEN RAISE EXCEPTION 'simulated database failure'; END IF;
                RETURN NEW; END $$
            """)
        try world.connection.execute(
            "CREATE TRIGGER refuse_bulk_job BEFORE INSERT OR UPDATE ON sfpg.sync_state FOR EACH ROW EXECUTE FUNCTION public.refuse_bulk_job()")
        let runner = try Self.runner(world)
        let outcome = try Self.run(world, runner, .full, connections: 1)
        #expect(outcome.status == .failure)
        #expect(outcome.error?.contains("simulated database failure") == true, "\(outcome.error ?? "")")
        let created = world.jobCreations.count
        #expect(created == 1)
        #expect(world.jobIds(method: "DELETE").count == 1)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }

    // Finding 5: a `timestamp` modstamp column in a database whose default zone is west of UTC.
    @Test func timestampModstampInAWestOfUTCDatabaseKeepsTheWatermarkTrue() async throws {
        let world = try await Self.world()
        try world.connection.execute(
            "ALTER TABLE public.salesforce_contacts ALTER COLUMN system_modstamp TYPE timestamp USING system_modstamp AT TIME ZONE 'UTC'")
        let database = try world.connection.execute("SELECT current_database()").rows[0][0]!
        try world.connection.execute("ALTER DATABASE \(SQLIdentifier.quote(database)) SET TimeZone = 'America/New_York'")
        let runner = try Self.runner(world)
        let full = try Self.run(world, runner, .full, connections: 1)
        #expect(full.status == .success, "\(full.error ?? "")")
        let newest = world.truth(try world.job("contacts")).compactMap { $0[10] }.max()
        #expect(full.summary?.watermarkAfter == newest)
        world.emulator.org.randomRound("Contact", seed: 5, inserts: 5, updates: 20, softDeletes: 3, undeletes: 0, hardDeletes: 0)
        let incremental = try Self.run(world, runner, .incremental, connections: 1)
        #expect(incremental.status == .success, "\(incremental.error ?? "")")
        #expect((incremental.summary?.counts.staged ?? 0) >= 28)
        // Compare as instants: the column holds UTC wall-clock times.
        try world.connection.execute(
            "ALTER TABLE public.salesforce_contacts ALTER COLUMN system_modstamp TYPE timestamptz USING system_modstamp AT TIME ZONE 'UTC'")
        let differences = try world.differences(try world.job("contacts"))
        #expect(differences.isEmpty, "\(differences.prefix(3))")
    }
}
