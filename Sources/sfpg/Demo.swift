import ArgumentParser
import Foundation
import LocalPostgres
import Logging
import PostgresLoader
import SalesforceClient
import SyncEngine

extension Sfpg {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the whole story locally: emulator + throwaway PostgreSQL, a full sync, changes, an incremental sync.",
            discussion: """
                Starts the Salesforce emulator (sfpg-emulator, next to sfpg) with generated Contacts and its own throwaway PostgreSQL \
                cluster, migrates, runs a full sync of the contacts job, applies a round of inserts, updates, soft \
                and hard deletes in the emulator, runs an incremental sync, and prints what each run did and a few \
                rows.

                The demo writes like a real run: it inserts generated Contacts into public.salesforce_contacts, \
                marks every other row there deleted and moves the contacts job's watermark. So it never reads \
                DATABASE_URL or libpq's PG* variables (PGHOST, PGDATABASE, PGSERVICE, ...): a shell set up for a \
                real database is safe.

                --database-url runs it in an existing database instead, but only in one with nothing to lose: it \
                is refused (exit 2) when sfpg.sync_state, sfpg.sync_logs or sfpg.changes has rows, or \
                public.salesforce_contacts is not empty. The demo migrates that database and leaves its rows \
                there. PG* variables are ignored then too, so give the URL in full.

                Examples:
                  sfpg demo
                  sfpg demo --contacts 1000000
                  sfpg demo --database-url postgresql://localhost/sfpg_demo
                """
        )

        @Option(help: "Generated Contacts in the emulator.")
        var contacts = 100_000

        @Option(help: "Seed of the generator and of the round of changes.")
        var seed: UInt64 = 42

        // The demo's own option, not GlobalOptions': that one falls back to $DATABASE_URL and PG*.
        @Option(help: """
            An empty database to use instead of a throwaway cluster (refused if it has sfpg state or Contacts). \
            No default: DATABASE_URL and PG* are ignored.
            """)
        var databaseURL: String?

        @OptionGroup var logging: LogOptions

        func run() throws {
            // First, before any thread or child process exists: see `DemoIsolation.clearLibpqEnvironment`.
            let ignored = DemoIsolation.clearLibpqEnvironment()
            // `sfpg demo | head` closes stdout early: without this SIGPIPE would kill the demo before it stops its
            // throwaway cluster and emulator; with it, a write just fails and the clean-up still runs.
            signal(SIGPIPE, SIG_IGN)
            let logger = logging.makeLogger()
            do {
                try demo(logger: logger, ignored: ignored)
            } catch {
                throw failureExit(error)
            }
        }

        private func demo(logger: Logger, ignored: [String]) throws {
            if !ignored.isEmpty {
                say("• ignoring \(ignored.joined(separator: ", ")) from the environment: the demo never uses the database they name")
            }
            // An explicit database is checked before anything else, so a refusal costs nothing.
            var given: PostgresConnection?
            if let databaseURL {
                CommandLinePassword.warnIfPresent(databaseURL, logger: logger)
                let connection = try PostgresConnection(databaseURL, applicationName: "sfpg-demo")
                try DemoDatabase.requireDisposable(connection)
                given = connection
            }

            let emulator = try EmulatorProcess(contacts: contacts, seed: seed)
            defer { emulator.stop() }
            say("• Salesforce emulator on \(emulator.baseURL) with \(contacts) Contacts")

            var cluster: ThrowawayPostgres?
            let connection: PostgresConnection
            if let given {
                connection = given
                say("• using --database-url: it has no sfpg state and no Contacts")
            } else {
                let started = try ThrowawayPostgres(searchPath: Settings.process.executableSearchPath)
                cluster = started
                connection = try PostgresConnection(started.conninfo, applicationName: "sfpg-demo")
                say("• throwaway PostgreSQL started (removed when the demo ends)")
            }
            defer { cluster?.stop() }

            // Like `sfpg migrate` without job tables: the demo's job is contacts, whose table 001 creates.
            let applied = try Migrator.migrate(connection, jobTables: []).applied
            say("• migrated: \(applied.isEmpty ? "schema already current" : applied.joined(separator: ", "))")

            let job = try JobDefinition.builtInContacts()
            let salesforce = try SalesforceConfiguration.fromEnvironment(emulator.environment)
            let trap = SignalTrap(postgres: connection.makeCanceller())
            let client = SalesforceClient(configuration: salesforce, cancellation: trap.cancellation, logger: logger)
            let runner = SyncRunner(
                connection: connection, client: client, cancellation: trap.cancellation, logger: logger,
                showProgress: isatty(STDERR_FILENO) == 1 && logging.effectiveLogFormat == .text
            )
            try withExtendedLifetime(trap) {
                try syncsAroundChanges(runner, job: job, emulator: emulator)
            }
            try showSample(connection)
        }

        /// Full sync, a round of changes in the emulator, incremental sync, then a full sync that sweeps.
        private func syncsAroundChanges(_ runner: SyncRunner, job: JobDefinition, emulator: EmulatorProcess) throws {
            say("\n== full sync ==")
            try report(runner.run(job, options: SyncOptions(mode: .full)))

            let changes = max(10, contacts / 100)
            try emulator.randomRound(
                object: "Contact", seed: seed &+ 1, inserts: changes, updates: changes, softDeletes: changes / 4,
                hardDeletes: changes / 10)
            say("\n== in Salesforce: \(changes) inserted, \(changes) updated, \(changes / 4) deleted, \(changes / 10) purged ==")

            say("\n== incremental sync ==")
            try report(runner.run(job, options: SyncOptions(mode: .incremental)))
            say("  (purged records vanish without a trace in an incremental read; the next full sync sweeps them)")

            say("\n== full sync (sweeps purged records) ==")
            try report(runner.run(job, options: SyncOptions(mode: .full)))
        }

        private func showSample(_ connection: PostgresConnection) throws {
            let table = try DemoDatabase.contactsSample(connection)
            say("\n== \(DemoDatabase.contactsTable): \(table.rows) rows, \(table.deleted) marked deleted; the 5 most recently changed live rows ==")
            say(table.columns.joined(separator: " | "))
            for row in table.sample {
                say(row.map { ($0 ?? "NULL").replacingOccurrences(of: "\n", with: " ").prefix(40) }.joined(separator: " | "))
            }
        }

        private func report(_ outcome: JobOutcome) throws {
            OutcomeTable.print([outcome], json: false)
            if outcome.status != .success { throw ExitCode(outcome.status.rawValue) }
        }
    }
}

/// What keeps `sfpg demo` away from any database but its own.
///
/// The demo writes like a real run (generated Contacts, a full sweep, the `contacts` job's watermark), so it must
/// not land in the database a shell's environment names for real work.
enum DemoIsolation {
    /// Removes `DATABASE_URL` and every `PG…` variable from this process's environment and returns their names.
    ///
    /// Why clear them rather than write a complete connection string: libpq fills every parameter a connection
    /// string leaves out from its environment variable, and an empty value counts as left out, so no conninfo can
    /// switch off `PGHOSTADDR` (it overrides where `host` connects to), `PGSERVICE` (a service file can supply any
    /// parameter, `hostaddr` included) or `PGOPTIONS` (server settings such as `default_transaction_read_only`), and
    /// new libpq versions add variables. Every variable libpq reads is named `PG…`, so with all of them gone only
    /// the explicit conninfo and libpq's compiled-in defaults remain; `~/.pgpass` can still supply a password but
    /// cannot redirect a connection. Doing it in-process also covers `initdb`, `pg_ctl` and the server, which
    /// inherit the environment. `setenv`/`unsetenv` race with environment reads on other threads, so this runs
    /// first, before the emulator, the cluster or any connection exists.
    static func clearLibpqEnvironment() -> [String] {
        let names = Settings.libpqVariableNames()
        for name in names { unsetenv(name) }
        return names
    }
}
