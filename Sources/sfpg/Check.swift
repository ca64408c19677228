import ArgumentParser
import Foundation
import SalesforceClient
import SyncEngine

extension Sfpg {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Health check: database, schema, credentials, API limits, job files and their fields.",
            discussion: """
                Exits non-zero (with the code of the first failing check) if anything is wrong; use it as a
                readiness probe or before the first scheduled run.
                Example:
                  sfpg check --jobs-directory /etc/sfpg/jobs
                """
        )

        @Option(help: "\(JobsDirectory.help)")
        var jobsDirectory = JobsDirectory.defaultPath

        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = global.makeLogger()
            let check = ReadinessCheck(jobsDirectory: jobsDirectory, connect: global.connect) {
                try Settings.process.salesforce()
            }
            let failures = check.run { line in print(line) }
            let worst = ExitStatus.combined(failures)
            if worst != .success { throw ExitCode(worst.rawValue) }
        }
    }
}
