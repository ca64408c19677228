import ArgumentParser
import Foundation
import PostgresLoader
import SalesforceClient
import SyncEngine

extension Sfpg {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sync jobs: all of them, or the ones named.",
            discussion: """
                Examples:
                  sfpg run                         # every job in --jobs-directory (default ./jobs), incremental where a watermark exists
                  sfpg run contacts --full         # full sync: every record, vanished keys marked deleted
                  sfpg run contacts accounts --incremental --wait-lock
                  sfpg run --dry-run contacts      # print the SOQL and SQL, change nothing
                  sfpg run contacts --full --allow-mass-delete   # once, after a real mass delete in Salesforce
                  sfpg run contacts --full --accept-new-org      # once, after a sandbox refresh (new org Id)
                  sfpg run contacts --full --shard 2/4 --shard-run nightly-0412   # one of 4 processes of one full run
                """
        )

        @Argument(help: "Job names (file names in --jobs-directory without .yaml). Default: all jobs.")
        var jobs: [String] = []

        @Flag(help: "Read every record and treat keys that vanished as deleted.")
        var full = false

        @Flag(help: "Read only what changed since the watermark (minus the job's overlap).")
        var incremental = false

        @Option(help: "\(JobsDirectory.help)")
        var jobsDirectory = JobsDirectory.defaultPath

        @Flag(help: "Wait for another run of the same job to finish instead of failing with exit code 5.")
        var waitLock = false

        @Flag(help: "Print the SOQL and SQL each job would run, and change nothing.")
        var dryRun = false

        @Option(help: "Result pages downloaded at once when Salesforce lists them (resultPages); 1 follows the locator chain.")
        var downloadConnections = 4

        @Option(help: ArgumentHelp(
            "Directory for result pages downloaded ahead of the loader (default: $SFPG_SPOOL_DIR, else $TMPDIR, else /tmp).",
            discussion: "Bounded by SF_SPOOL_MAX_BYTES (default 1G); files are unlinked as they are created."))
        var spoolDir: String?

        @Flag(help: ArgumentHelp(
            "Let this run's full sweep delete or mark deleted more rows than the job's max_sweep (default 10% of the live rows).",
            discussion: "Without it such a run fails (exit 1) and changes nothing: records hidden from the integration user by a sharing or permission change look exactly like deleted ones."))
        var allowMassDelete = false

        @Flag(help: ArgumentHelp(
            "Let this full run re-read a job whose table was read from another org (a refreshed sandbox), and record the new org.",
            discussion: "Without it a run whose session belongs to another org than the one recorded with the job fails (exit 2) before any Bulk job. Needs --full; lifts the sweep bound for this run."))
        var acceptNewOrg = false

        @Option(help: ArgumentHelp(
            "Run shard I of N (0-based) of one full run of one job, e.g. --shard $(JOB_COMPLETION_INDEX)/4.",
            discussion: "Each shard loads and sweeps its own Id range; the job's watermark and run log commit once every shard of the run has finished. Rerun a failed shard alone with the same I/N and --shard-run.",
            valueName: "I/N"))
        var shard: String?

        @Option(help: ArgumentHelp(
            "Name of the sharded run this shard belongs to (default: $SFPG_SHARD_RUN, else the newest unfinished run with the same N begun within 24 hours).",
            discussion: "In Kubernetes, the Job's name (downward API), so each schedule's shards form one run."))
        var shardRun: String?

        @Option(help: ArgumentHelp(
            "The most of each of the org's daily allowances this run may take the org's usage to, e.g. 50% (default: $SFPG_API_BUDGET).",
            discussion: "A job's own api_budget applies when smaller. A run whose next step would cross it stops with exit 6 (api_budget) and commits nothing."))
        var apiBudget: String?

        @OptionGroup var metrics: MetricsOptions

        @OptionGroup var global: GlobalOptions

        static func seconds(since start: ContinuousClock.Instant) -> Double {
            let elapsed = (ContinuousClock.now - start).components
            return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        }

        func validate() throws {
            if full && incremental { throw ValidationError("--full and --incremental exclude each other") }
            if acceptNewOrg && !full {
                throw ValidationError("--accept-new-org re-reads the whole new org: use it with --full")
            }
            if downloadConnections < 1 || downloadConnections > 32 {
                throw ValidationError("--download-connections must be between 1 and 32")
            }
        }

        /// `--shard` and `--shard-run` (or `SFPG_SHARD_RUN`) as a ``ShardSpec``; nil without `--shard`.
        /// - Throws: ``SyncError`` with exit 64 for a malformed or misused `--shard` (a command-line error like any
        ///   other), exit 2 for a run name that is too long (it may come from `SFPG_SHARD_RUN`).
        func shardSpec() throws -> ShardSpec? {
            let runName = shardRun ?? Settings.process.shardRun
            func usage(_ message: String) -> SyncError { SyncError(message, exitStatus: .commandLine) }
            guard let shard else {
                if shardRun != nil { throw usage("--shard-run names a sharded run: it needs --shard I/N") }
                return nil
            }
            let spec = try ShardSpec(parsing: shard, runName: runName)
            if jobs.count != 1 {
                throw usage(
                    "--shard runs one shard of one job: name exactly one job (e.g. sfpg run contacts --full --shard \(shard))")
            }
            if incremental {
                throw usage("--shard needs a full run (each shard sweeps its range): use --full, not --incremental")
            }
            return spec
        }

        func run() throws {
            let logger = global.makeLogger()
            let started = ContinuousClock.now
            var publisher = RunMetricsPublisher(options: metrics, logger: logger)
            var selected: [JobDefinition] = []
            var published = false
            do {
                let shard = try shardSpec()
                let budget = try Settings.process.apiBudget(flag: apiBudget)
                publisher.shard = shard?.index
                selected = try JobSelection.load(directory: jobsDirectory, names: jobs)
                let salesforce = try Settings.process.salesforce(spoolDir: spoolDir)
                let resumeMinRecords = try Settings.process.resumeMinRecords()
                let connection = try global.connect()
                try SchemaCheck.requireCurrent(connection)
                let mode: SyncMode? = full ? .full : incremental ? .incremental : nil
                if dryRun {
                    let fields = FieldCheck(client: SalesforceClient(configuration: salesforce, logger: logger), logger: logger)
                    Swift.print(
                        try DryRun.describe(selected, mode: mode, connection: connection, fieldCheck: fields), terminator: "")
                    return
                }
                _ = try SalesforceClient.checkSpoolDirectory(salesforce)
                let trap = SignalTrap(postgres: connection.makeCanceller())
                let client = SalesforceClient(configuration: salesforce, cancellation: trap.cancellation, logger: logger)
                let runner = SyncRunner(
                    connection: connection, client: client, cancellation: trap.cancellation,
                    logger: logger,
                    // The progress line redraws itself with a carriage return: not a JSON line.
                    showProgress: isatty(STDERR_FILENO) == 1 && global.logging.effectiveLogFormat == .text
                )
                let store = SyncStore(connection)
                publisher.prepare(selected, store: store)
                let outcomes = withExtendedLifetime(trap) {
                    runner.run(selected, options: SyncOptions(
                        mode: mode, lock: waitLock ? .wait : .failFast, downloadConnections: downloadConnections,
                        allowMassDelete: allowMassDelete, shard: shard, acceptNewOrg: acceptNewOrg, apiBudget: budget,
                        resumeMinRecords: resumeMinRecords))
                }
                publisher.publish(outcomes, jobs: selected, store: connection.isConnected ? store : nil)
                published = true
                OutcomeTable.print(outcomes, json: global.logging.logFormat == .json)
                let status = ExitStatus.combined(outcomes.map(\.status))
                if status != .success { throw ExitCode(status.rawValue) }
            } catch {
                if !published && !dryRun {
                    publisher.publishFailure(error, jobs: selected, seconds: Self.seconds(since: started))
                }
                throw failureExit(error)
            }
        }
    }
}
