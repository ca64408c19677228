import ArgumentParser
import Foundation
import Logging
import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import SyncEngine

extension Sfpg {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the whole story locally: emulator + throwaway PostgreSQL, a full sync, changes, an incremental sync.",
            discussion: """
                Starts the Salesforce emulator in-process with generated Contacts and a throwaway PostgreSQL
                cluster (or uses --database-url / DATABASE_URL), migrates, runs a full sync of the contacts job,
                applies a round of inserts, updates, soft and hard deletes in the emulator, runs an incremental
                sync, and prints what each run did and a few rows.
                Examples:
                  sfpg demo
                  sfpg demo --contacts 1000000
                """
        )

        @Option(help: "Generated Contacts in the emulator.")
        var contacts = 100_000

        @Option(help: "Seed of the generator and of the round of changes.")
        var seed: UInt64 = 42

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            do {
                try demo(logger: logger)
            } catch {
                throw failureExit(error)
            }
        }

        private func demo(logger: Logger) throws {
            var configuration = EmulatorConfiguration()
            configuration.contactCount = contacts
            configuration.seed = seed
            let emulator = try Emulator.startBlocking(configuration)
            defer { try? emulator.shutdownBlocking() }
            say("• Salesforce emulator on \(emulator.baseURL) with \(contacts) Contacts")

            var cluster: ThrowawayPostgres?
            var conninfo = global.conninfo
            if conninfo.isEmpty {
                let started = try ThrowawayPostgres()
                cluster = started
                conninfo = started.conninfo
                say("• throwaway PostgreSQL started (removed when the demo ends)")
            }
            defer { cluster?.stop() }

            let connection = try PostgresConnection(conninfo)
            let applied = try Migrator.migrate(connection)
            say("• migrated: \(applied.isEmpty ? "schema already current" : applied.joined(separator: ", "))")

            let job = try JobDefinition.builtInContacts()
            var environment: [String: String] = [:]
            for (name, value) in EmulatorEnvironment.variables(for: emulator, configuration: configuration) {
                environment[name] = value
            }
            let salesforce = try SalesforceConfiguration.fromEnvironment(environment)
            let trap = SignalTrap(postgres: connection.makeCanceller())
            let client = SalesforceClient(configuration: salesforce, cancellation: trap.cancellation, logger: logger)
            let runner = SyncRunner(
                connection: connection, client: client, cancellation: trap.cancellation, logger: logger,
                showProgress: isatty(STDERR_FILENO) == 1
            )
            try withExtendedLifetime(trap) {
                say("\n== full sync ==")
                try report(runner.run(job, options: SyncOptions(mode: .full)))

                let changes = max(10, contacts / 100)
                emulator.org.randomRound(
                    "Contact", seed: seed &+ 1, inserts: changes, updates: changes, softDeletes: changes / 4,
                    undeletes: 0, hardDeletes: changes / 10
                )
                say("\n== in Salesforce: \(changes) inserted, \(changes) updated, \(changes / 4) deleted, \(changes / 10) purged ==")

                say("\n== incremental sync ==")
                try report(runner.run(job, options: SyncOptions(mode: .incremental)))
                say("  (purged records vanish without a trace in an incremental read; the next full sync sweeps them)")

                say("\n== full sync (sweeps purged records) ==")
                try report(runner.run(job, options: SyncOptions(mode: .full)))
            }

            let sample = try connection.execute(
                """
                SELECT salesforce_id, first_name, last_name, email, is_deleted,
                       to_char(system_modstamp AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS modstamp
                  FROM public.salesforce_contacts ORDER BY is_deleted, system_modstamp DESC LIMIT 5
                """
            )
            let totals = try connection.execute(
                "SELECT count(*), count(*) FILTER (WHERE is_deleted) FROM public.salesforce_contacts"
            )
            say("\n== public.salesforce_contacts: \(totals.rows[0][0] ?? "?") rows, \(totals.rows[0][1] ?? "?") marked deleted; the 5 most recently changed live rows ==")
            say(sample.columns.joined(separator: " | "))
            for row in sample.rows {
                say(row.map { ($0 ?? "NULL").replacingOccurrences(of: "\n", with: " ").prefix(40) }.joined(separator: " | "))
            }
        }

        private func report(_ outcome: JobOutcome) throws {
            OutcomeTable.print([outcome])
            if outcome.status != .success { throw ExitCode(outcome.status.rawValue) }
        }
    }
}
