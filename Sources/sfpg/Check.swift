import ArgumentParser
import Foundation
import SalesforceClient
import SyncEngine

extension Sfpg {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pre-flight and readiness probe: every check a run makes before its first Bulk job.",
            discussion: """
                Database, schema, job files, settings, spool directory, credentials, API limits, and per job its
                fields, query and target table (columns, types, key index), checked by the run's own code. Exits
                with the code the run would (the most severe of its failures); use it as a readiness probe or
                before the first scheduled run.
                Example:
                  sfpg check --jobs-directory /etc/sfpg/jobs
                """
        )

        @Option(help: "\(JobsDirectory.help)")
        var jobsDirectory = JobsDirectory.defaultPath

        @Option(help: "The spool directory the run will use (default: $SFPG_SPOOL_DIR, else $TMPDIR, else /tmp).")
        var spoolDir: String?

        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = global.makeLogger()
            let check = ReadinessCheck(jobsDirectory: jobsDirectory, connect: global.connect) {
                try Settings.process.salesforce(spoolDir: spoolDir)
            }
            let failures = check.run { line in print(line) }
            let worst = ExitStatus.combined(failures)
            if worst != .success { throw ExitCode(worst.rawValue) }
        }
    }
}
