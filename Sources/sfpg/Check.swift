import ArgumentParser
import Foundation
import PostgresLoader
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
            var failures: [ExitStatus] = []
            func report(_ name: String, _ body: () throws -> String) {
                do {
                    print("ok    \(name): \(try body())")
                } catch {
                    print("FAIL  \(name): \(error)")
                    failures.append(ExitStatus(for: error))
                }
            }
            var connection: PostgresConnection?
            report("database") {
                let opened = try global.connect()
                connection = opened
                return "connected (server version \(opened.serverVersion))"
            }
            if let connection {
                report("schema") {
                    try SchemaCheck.requireCurrent(connection)
                    return "current"
                }
            }
            var jobs: [JobDefinition] = []
            report("job files") {
                jobs = try JobDefinition.loadAll(directory: jobsDirectory)
                return "\(jobs.count) valid (\(jobs.map(\.name).joined(separator: ", ")))"
            }
            var client: SalesforceClient?
            report("salesforce credentials") {
                let configuration = try Settings.process.salesforce()
                let made = SalesforceClient(configuration: configuration)
                try made.authenticate()
                client = made
                return "authenticated (\(made.instanceURL ?? "?"))"
            }
            if let client {
                report("api limits") {
                    let limits = try client.limits()
                    let names = ["DailyApiRequests", "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"]
                    let parts = names.compactMap { name in limits[name].map { "\(name) \($0.remaining)/\($0.max) left" } }
                    if let api = limits["DailyApiRequests"], api.remaining <= 0 {
                        throw SalesforceError(code: .requestLimitExceeded, message: "DailyApiRequests exhausted (\(api.max) per 24 h)")
                    }
                    return parts.joined(separator: ", ")
                }
                let fields = FieldCheck(client: client)
                for job in jobs {
                    report("fields of \(job.name)") {
                        try fields.check(job)
                        return "\(job.fields.count) mapped fields exist on \(job.object)"
                    }
                    // New fields are news, not a failure: the job keeps working without them.
                    if let unmapped = try? fields.unmappedFields(job), !unmapped.isEmpty {
                        print("note  \(job.name): \(unmapped.count) field(s) in Salesforce but not in the job: "
                            + unmapped.map(\.name).joined(separator: ", ")
                            + " (sfpg describe \(job.object) --table \(job.table) --alter prints the DDL)")
                    }
                }
            }
            let worst = ExitStatus.combined(failures)
            if worst != .success { throw ExitCode(worst.rawValue) }
        }
    }
}
