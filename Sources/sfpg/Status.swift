import ArgumentParser
import Foundation
import Logging
import SyncEngine

extension Sfpg {
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per job: last run, status, counts, watermark, rows in the table, freshness lag.",
            discussion: """
                Examples:
                  sfpg status
                  sfpg status --json | jq '.[] | select(.lastRunStatus != "success")'
                """
        )

        @Flag(help: "Print JSON (an array, one object per job).")
        var json = false

        @Option(help: ArgumentHelp("\(JobsDirectory.help) Jobs that never ran are listed too.", valueName: "dir"))
        var jobsDirectory: String?

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            do {
                let connection = try global.connect()
                let jobs = loadJobs(logger: logger)
                if json {
                    print(try StatusReport.json(connection, jobs: jobs))
                    return
                }
                let statuses = try StatusReport.collect(connection, jobs: jobs)
                for status in statuses {
                    print(status.job + (status.object.map { " (\($0) → \(status.table ?? "?"))" } ?? ""))
                    if let line = verifyLine(status) { print(line) }
                    resumableLines(status).forEach { print($0) }
                    guard let result = status.lastRunStatus else {
                        print("  never run")
                        continue
                    }
                    let took = status.lastRunSeconds.map { " (\(String(format: "%.1f", $0)) s)" } ?? ""
                    print("  last run:   \(result), \(status.lastSyncType ?? "?"), \(status.lastStartedAt ?? "?") → \(status.lastCompletedAt ?? "?")\(took)")
                    print("  counts:     \(status.recordsProcessed ?? 0) read, \(status.recordsInserted ?? 0) inserted, \(status.recordsUpdated ?? 0) updated, \(status.recordsDeleted ?? 0) deleted, \(status.recordsUnchanged ?? 0) unchanged")
                    if let expected = status.recordsExpected {
                        // The completeness proof: Salesforce's count = what the pages delivered = rows staged.
                        let downloaded = status.recordsDownloaded.map(String.init) ?? "?"
                        let agree = status.recordsDownloaded == expected && status.recordsProcessed == expected
                        print("  records:    \(expected) expected (Salesforce), \(downloaded) downloaded in \(status.resultPages.map(String.init) ?? "?") pages, \(status.recordsProcessed ?? 0) staged" + (agree ? " (complete)" : " (MISMATCH)"))
                    }
                    if let calls = status.apiCalls {
                        let bytes = status.resultBytes.map { ", \(String(format: "%.1f", Double($0) / 1_048_576)) MB of results" } ?? ""
                        print("  api usage:  \(calls) API calls\(bytes)")
                    }
                    if let reason = status.failureReason { print("  refused:    \(reason)") }
                    if let shards = status.shards, let name = shards.first?.runName {
                        let states = shards.map { "\($0.index): \($0.status)" + ($0.attempts > 1 ? " (\($0.attempts) attempts)" : "") }
                        print("  shards:     run \(name), \(states.joined(separator: ", "))")
                    }
                    print("  watermark:  \(status.watermark ?? "none")")
                    if let org = status.orgId { print("  org:        \(org)") }
                    print("  rows:       \(status.rowsInTable.map(String.init) ?? "unknown")")
                    if let lag = status.secondsSinceLastSuccess {
                        print("  freshness:  last success \(Int(lag)) s ago")
                    } else {
                        print("  freshness:  never succeeded")
                    }
                    if let refreshed = status.calculatedRefreshedAt { print("  formulas:   refreshed \(refreshed)") }
                    if let error = status.lastError { print("  last error: \(error)") }
                    if let bulk = status.bulkJobInFlight { print("  bulk job in flight: \(bulk)") }
                }
            } catch {
                throw failureExit(error)
            }
        }

        /// A killed run's staged pages that the next run resumes from, one line each.
        func resumableLines(_ status: JobStatus) -> [String] {
            (status.resumable ?? []).map { run in
                let of = run.recordsExpected.map(String.init) ?? "?"
                let scope = run.scope.isEmpty ? "" : " (\(run.scope))"
                return "  resumable:  \(run.staged.pages) pages staged, \(run.staged.records) of \(of) records, "
                    + "\(run.staged.bytes) bytes\(scope), since \(run.startedAt); bulk jobs "
                    + run.bulkJobIds.joined(separator: ",")
            }
        }

        /// The last verify and its drift, and whether the job file's `verify:` interval says one is due.
        func verifyLine(_ status: JobStatus) -> String? {
            let due = status.verifyDue.map { $0 ? ", due" : ", not due" } ?? ""
            guard let verify = status.lastVerify else { return status.verifyDue == true ? "  verify:     never verified, due" : nil }
            let found = verify.status == .success
                ? "\(verify.missing) missing, \(verify.stale) stale, \(verify.extra) extra, \(verify.repaired) repaired"
                : "\(verify.status.rawValue): \(verify.errorMessage ?? "?")"
            return "  verify:     \(verify.completedAt ?? "?"): \(found) (\(verify.windowsChecked) windows, "
                + "\(verify.compared) records compared, \(verify.apiCalls) API calls)\(due)"
        }

        /// The job files, for the jobs that never ran. Without them status still reports every job the database
        /// knows (run outside a project directory, say); a directory that is there but does not load, or one given
        /// explicitly that is not there, is news to whoever reads the report: its jobs would be missing without a
        /// word.
        func loadJobs(logger: Logger) -> [JobDefinition] {
            let directory = jobsDirectory ?? JobsDirectory.defaultPath
            do {
                return try JobDefinition.loadAll(directory: directory)
            } catch {
                if jobsDirectory != nil || FileManager.default.fileExists(atPath: directory) {
                    logger.warning(
                        "the job files could not be read; showing only the jobs the database knows",
                        metadata: ["jobs.directory": "\(directory)", "error": "\(error)"])
                }
                return []
            }
        }
    }
}
