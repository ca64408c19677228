import ArgumentParser
import Foundation
import PostgresLoader
import SalesforceClient
import SyncEngine

extension Sfpg {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare jobs' tables with Salesforce by counts per window; find (and --repair) drift.",
            discussion: """
                Counts the live records per year, month and day of the watermark field on both sides (REST aggregate
                queries, the job's where: applied), lists the windows whose counts differ (a Bulk query of key and
                modstamp) and compares them record by record: missing, stale (an older modstamp in the table) and
                extra (gone from Salesforce or hidden from the integration user). Exit 7 when drift was found and not
                repaired. Every verify writes a sfpg.sync_logs row (sync_type 'verify'); sfpg status shows the last.

                Examples:
                  sfpg verify                      # every job; exit 0 clean, 7 drift found
                  sfpg verify contacts --repair    # re-read missing and stale records, sweep extra keys (max_sweep)
                """
        )

        @Argument(help: "Job names (file names in --jobs-directory without .yaml). Default: all jobs.")
        var jobs: [String] = []

        @Option(help: "\(JobsDirectory.help)") var jobsDirectory = JobsDirectory.defaultPath

        @Flag(help: "Wait for a run of the same job to finish instead of failing with exit code 5.")
        var waitLock = false

        @Flag(help: "Re-read missing and stale records through the run pipeline and remove (or mark) extra rows within max_sweep.")
        var repair = false

        @OptionGroup var metrics: MetricsOptions

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            do {
                let selected = try JobSelection.load(directory: jobsDirectory, names: jobs)
                let salesforce = try Settings.process.salesforce()
                let connection = try global.connect()
                try SchemaCheck.requireCurrent(connection)
                let trap = SignalTrap(postgres: connection.makeCanceller())
                let client = SalesforceClient(configuration: salesforce, cancellation: trap.cancellation, logger: logger)
                let runner = SyncRunner(connection: connection, client: client, cancellation: trap.cancellation, logger: logger)
                let outcomes = withExtendedLifetime(trap) {
                    runner.verify(selected, options: VerifyOptions(repair: repair, lock: waitLock ? .wait : .failFast))
                }
                RunMetricsPublisher(options: metrics, logger: logger).publish(outcomes, jobs: selected)
                for outcome in outcomes { say(Self.line(outcome)) }
                let status = ExitStatus.combined(outcomes.map(\.status))
                if status != .success { throw ExitCode(status.rawValue) }
            } catch {
                throw failureExit(error)
            }
        }

        static func line(_ outcome: VerifyOutcome) -> String {
            let found = outcome.record
            guard outcome.error == nil else {
                return "\(outcome.job): verify FAILED (exit \(outcome.status.rawValue)): \(outcome.error ?? "")"
            }
            let verdict = found.drift == 0 ? "clean" : found.repaired > 0 || outcome.status == .success ? "repaired" : "DRIFT (exit 7)"
            return "\(outcome.job): verify \(verdict) in \(String(format: "%.1f", outcome.seconds)) s — "
                + "\(found.missing) missing, \(found.stale) stale, \(found.extra) extra, \(found.repaired) repaired; "
                + "\(found.windowsChecked) windows counted, \(found.compared) records compared, \(found.apiCalls) API calls"
                + (outcome.estimate.map { "; Salesforce estimates \($0) records" } ?? "")
        }
    }
}
