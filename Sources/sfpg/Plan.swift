import ArgumentParser
import Foundation
import SalesforceClient
import SyncEngine

extension Sfpg {
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Predict what running jobs would spend: Bulk jobs, API calls, result bytes, time; and what the org has left.",
            discussion: """
                Runs each job's preflight (describe), counts its records (SELECT COUNT() over the run's window) and
                sizes a REST sample of 200 of them; nothing else is run. The API calls come from the steps the run
                takes (split, polls at the client's backoff, pages of page_size); time from the job's past runs.
                Examples:
                  sfpg plan
                  sfpg plan contacts --full
                  sfpg plan --json | jq .apiCalls
                """
        )

        @Argument(help: "Job names (file names in --jobs-directory without .yaml). Default: all jobs.")
        var jobs: [String] = []

        @Option(help: "\(JobsDirectory.help)")
        var jobsDirectory = JobsDirectory.defaultPath

        @Flag(help: "Print JSON (one object: per job, totals, the org's allowances).")
        var json = false

        @Flag(help: "Predict a full run (default: what sfpg run would do, incremental where a watermark exists).")
        var full = false

        @Flag(help: "Predict an incremental run (from the watermark, minus the job's overlap).")
        var incremental = false

        @Option(help: "Result pages downloaded at once, as for sfpg run (the resultPages listing costs calls).")
        var downloadConnections = 4

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if full && incremental { throw ValidationError("--full and --incremental exclude each other") }
            if downloadConnections < 1 || downloadConnections > 32 {
                throw ValidationError("--download-connections must be between 1 and 32")
            }
        }

        func run() throws {
            let logger = global.makeLogger()
            do {
                let selected = try JobSelection.load(directory: jobsDirectory, names: jobs)
                let connection = try global.connect()
                let client = SalesforceClient(configuration: try Settings.process.salesforce(), logger: logger)
                let options = SyncOptions(mode: full ? .full : incremental ? .incremental : nil, downloadConnections: downloadConnections)
                let forecast = try RunForecaster(connection: connection, client: client, logger: logger)
                    .forecast(selected, options: options)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    Swift.print(String(decoding: try encoder.encode(forecast), as: UTF8.self))
                } else {
                    Self.show(forecast)
                }
            } catch {
                throw failureExit(error)
            }
        }

        static func show(_ forecast: Forecast) {
            func gigabytes(_ bytes: Int64) -> String { String(format: "%.3f GB", Double(bytes) / 1e9) }
            func time(_ seconds: Double?) -> String { seconds.map { String(format: "~%.1f s", $0) } ?? "time unknown" }
            for job in forecast.jobs {
                Swift.print("\(job.job): \(job.mode) — \(job.records) records (\(job.recordsFrom)), "
                    + String(format: "%.0f", job.bytesPerRecord) + " B/record (\(job.bytesFrom))")
                Swift.print("  \(job.bulkJobs) Bulk job(s), \(job.apiCalls) API calls, \(gigabytes(job.resultBytes)), "
                    + "\(time(job.seconds)) (rate: \(job.rateFrom))")
            }
            Swift.print("total: \(forecast.bulkJobs) Bulk job(s), \(forecast.apiCalls) API calls, "
                + "\(gigabytes(forecast.resultBytes)), \(time(forecast.seconds))")
            for name in ["DailyApiRequests", "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"] {
                let left = forecast.limits[name].map { "\($0.remaining) of \($0.max) left" } ?? "not reported"
                Swift.print("org: \(name) \(left)")
            }
            Swift.print("(this plan used \(forecast.forecastApiCalls) API calls)")
        }
    }
}
