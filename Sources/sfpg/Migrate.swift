import ArgumentParser
import PostgresLoader
import SyncEngine

extension Sfpg {
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update sfpg's schema (sfpg.*) and the target tables of the jobs given. Idempotent.",
            discussion: """
                Applies sfpg's own migrations (sfpg.sync_state, sfpg.sync_logs, sfpg.changes, and the seed's \
                public.salesforce_contacts), then, for each job in --jobs-directory that has a <job>.sql beside \
                its <job>.yaml, that file (it must be idempotent: CREATE TABLE IF NOT EXISTS …). Tables of jobs \
                you do not have are not created.

                Examples:
                  sfpg migrate
                  sfpg migrate --jobs-directory /etc/sfpg/jobs
                  sfpg migrate --database-url postgresql://sync@db.internal/app?sslmode=verify-full
                """
        )

        @Option(help: ArgumentHelp(JobsDirectory.help, valueName: "dir"))
        var jobsDirectory: String?

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            do {
                let files = try JobTableFiles.ddlFiles(
                    in: jobsDirectory ?? JobsDirectory.defaultPath, required: jobsDirectory != nil)
                let connection = try global.connect()
                let outcome = try Migrator.migrate(connection, jobTables: files)
                let (superseded, applied) = (outcome.superseded, outcome.applied)
                if applied.isEmpty {
                    print("schema is current; nothing to apply")
                } else {
                    for name in applied { print("applied \(name)") }
                }
                for name in superseded { print("skipped \(name) (new database: job tables come from the jobs' own .sql files)") }
                for file in files { print("job tables: \(file)") }
                logger.notice("migrate finished", metadata: ["pg.migrations": "\(applied.count)", "pg.job_ddl": "\(files.count)"])
            } catch {
                throw failureExit(error)
            }
        }
    }
}
