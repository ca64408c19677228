import ArgumentParser
import PostgresLoader

extension Sfpg {
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update sfpg's schema (sfpg.sync_state, sfpg.sync_logs, the default tables). Idempotent.",
            discussion: """
                Examples:
                  sfpg migrate
                  sfpg migrate --database-url postgresql://sync@db.internal/app?sslmode=verify-full
                """
        )

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            do {
                let connection = try global.connect()
                let applied = try Migrator.migrate(connection)
                if applied.isEmpty {
                    print("schema is current; nothing to apply")
                } else {
                    for name in applied { print("applied \(name)") }
                }
                logger.notice("migrate finished", metadata: ["pg.migrations": "\(applied.count)"])
            } catch {
                throw failureExit(error)
            }
        }
    }
}
