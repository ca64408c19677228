import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// Options for one `sfpg run` invocation.
public struct SyncOptions: Sendable {
    /// nil: incremental when the job has a watermark from an earlier run, else full.
    public var mode: SyncMode?
    public var lock: LockPolicy
    /// Result pages fetched at once when the org lists them (`resultPages`); 1 follows the sequential locator chain.
    public var downloadConnections: Int
    /// Pages downloaded or spooled but not yet loaded, at most; nil means twice `downloadConnections`.
    public var maxPagesInFlight: Int?
    /// Let a full sweep exceed the job's `max_sweep` (`--allow-mass-delete`).
    public var allowMassDelete: Bool
    /// Run one shard of a sharded full run (`--shard I/N`) instead of the whole job.
    public var shard: ShardSpec?
    /// Let a full run read a job whose table came from another org (`--accept-new-org`): see ``OrgCheck``.
    public var acceptNewOrg: Bool
    /// The run-level `api_budget` (`--api-budget`, `SFPG_API_BUDGET`) as a fraction; a job's own applies when smaller.
    public var apiBudget: Double?
    /// A run whose Bulk jobs hold at least this many records stages resumably (`SFPG_RESUME_MIN_RECORDS`; see
    /// README, "Resume"): a killed run's rerun then downloads only the pages not yet staged.
    public var resumeMinRecords: ResumeThreshold
    /// The org ``OrgCheck`` found the session in before the run's first Bulk job; its commit records this one.
    var checkedOrg: OrganizationId?
    public init(
        mode: SyncMode? = nil, lock: LockPolicy = .failFast, downloadConnections: Int = 4, maxPagesInFlight: Int? = nil,
        allowMassDelete: Bool = false, shard: ShardSpec? = nil, acceptNewOrg: Bool = false, apiBudget: Double? = nil,
        resumeMinRecords: ResumeThreshold = SyncRunner.defaultResumeMinRecords
    ) {
        self.apiBudget = apiBudget
        self.resumeMinRecords = resumeMinRecords
        self.acceptNewOrg = acceptNewOrg
        self.shard = shard
        self.mode = mode
        self.lock = lock
        self.downloadConnections = downloadConnections
        self.maxPagesInFlight = maxPagesInFlight
        self.allowMassDelete = allowMassDelete
    }
}

/// What one job's run did.
public struct JobOutcome: Sendable {
    public var job: String
    public var status: ExitStatus
    public var plan: SyncPlan?
    public var summary: RunSummary?
    public var salesforceJobId: String?
    public var error: String?
    public var seconds: Double
    /// Why a successful run has no summary (a shard that had already succeeded), for the summary line.
    public var note: String?
    /// The failure itself, typed (``error`` is its description), for exit codes and metrics.
    public var failure: (any Error)?
    /// Seconds from the run's first Bulk job submission to its last job's completion.
    public var bulkJobSeconds: Double?
    /// The run's `sfpg.sync_logs` id once it committed.
    public var runId: Int64? { summary?.runId }
    /// Why the job failed; `nil` when it did not (or only its ``status`` is known).
    public var reason: ExitReason? = nil
    /// Rows whose new fields a backfill filled, and rows whose formulas a refresh changed, after the commit.
    public var backfilled = 0
    public var refreshed = 0
    /// The shard this outcome is of (`--shard I/N`), for its summary.
    public var shard: ShardSpec? = nil
    /// Uncompressed result bytes the run downloaded.
    public var resultBytes: Int64 = 0
}

extension JobOutcome {
    /// A job that failed before its run began (the database or the schema check refused it).
    public init(job: String, failedWith error: any Error) {
        self.init(job: job, status: .success, seconds: 0)
        fail(error)
    }
}

/// Runs jobs: Salesforce Bulk query → COPY into staging → one merge, committed with the watermark and the run log.
///
/// Blocking by design (libcurl and libpq block); call it from a thread that may block, not from the cooperative pool.
public final class SyncRunner {
    let connection: PostgresConnection
    /// The owner of the `sfpg.*` tables and the job locks.
    let store: SyncStore
    let client: SalesforceClient
    let cancellation: CancellationFlag
    let logger: Logger
    let progress: ProgressLine?
    let fieldCheck: FieldCheck
    /// Called once a split run's ranges are known, before its Bulk jobs are created (tests arm faults here).
    var beforeSplitJobs: ((SplitRanges) -> Void)?
    /// Called with each data job's SOQL once it exists (tests change records between two snapshots here).
    var onBulkJobCreated: ((String) -> Void)?

    public init(
        connection: PostgresConnection, client: SalesforceClient, cancellation: CancellationFlag, logger: Logger,
        showProgress: Bool = false, requestId: String? = nil
    ) {
        self.connection = connection
        self.store = SyncStore(connection)
        store.requestId = requestId
        store.onLockWait = { holder in
            logger.notice("waiting for another run to release its lock (--wait-lock)", metadata: ["lock.holder": "\(holder)"])
        }
        self.client = client
        self.cancellation = cancellation
        self.logger = logger
        self.progress = showProgress ? ProgressLine() : nil
        self.fieldCheck = FieldCheck(client: client)
    }

    /// Runs each job in turn; a failing job does not stop the others, a cancelled one does, and so does a login
    /// Salesforce refused (the client asks once per invocation: repeated failed logins lock the user out).
    public func run(_ jobs: [JobDefinition], options: SyncOptions) -> [JobOutcome] {
        var outcomes: [JobOutcome] = []
        for job in jobs {
            if cancellation.isCancelled {
                outcomes.append(JobOutcome(job: job.name, status: .cancelled, error: "cancelled before it started", seconds: 0))
                continue
            }
            if let refused = outcomes.first(where: { ($0.failure as? SalesforceError)?.code == .authentication }),
                let failure = refused.failure
            {
                var skipped = JobOutcome(job: job.name, status: .success, seconds: 0)
                skipped.fail(failure, message: "not run: Salesforce refused the login (job '\(refused.job)'); not tried again")
                outcomes.append(skipped)
                continue
            }
            outcomes.append(run(job, options: options))
        }
        return outcomes
    }

    /// Runs one job to completion or failure; never throws, the outcome says what happened.
    public func run(_ job: JobDefinition, options: SyncOptions) -> JobOutcome {
        var job = job
        let started = ContinuousClock.now
        let (callsBefore, jobsBefore) = (client.apiCallCount, client.bulkJobsCreated)
        var logger = self.logger
        logger[metadataKey: "job.name"] = "\(job.name)"
        logger[metadataKey: "sf.object"] = "\(job.object)"
        var outcome = JobOutcome(job: job.name, status: .success, seconds: 0, shard: options.shard)
        // Preflight: credentials and the job's fields are checked before anything touches a table, so a
        // configuration problem leaves every table as it was.
        do {
            job = try fieldCheck.check(job)
        } catch {
            outcome.fail(error)
            logger.error("sync preflight failed", metadata: ["error": "\(error)"])
            return outcome
        }

        do {
            if let shard = options.shard {
                logger[metadataKey: "sync.shard"] = "\(shard)"
                try store.withShardLock(job.name, table: job.table, index: shard.index, policy: options.lock) { state in
                    let options = try OrgCheck(client: client, logger: logger).check(job, state: state, options: options)
                    guard let slot = try prepareShard(job, shard: shard, state: state, options: options, outcome: &outcome, logger: logger)
                    else { return }
                    var logger = logger
                    logger[metadataKey: "sync.shard_run"] = "\(slot.runName)"
                    try sync(job, scope: .shard(slot), state: state, options: options, outcome: &outcome, logger: logger)
                    // A shard's rows are only part of the table: the columns are recorded once, by the run's last shard.
                    if outcome.summary?.completedShardRun == true {
                        refreshColumnsAfterCommit(job, mode: .full, outcome: &outcome, logger: logger)
                    }
                }
            } else {
                try store.withJobLock(job.name, table: job.table, policy: options.lock) { state in
                    let options = try OrgCheck(client: client, logger: logger).check(job, state: state, options: options)
                    try sync(job, scope: .object, state: state, options: options, outcome: &outcome, logger: logger)
                    refreshColumnsAfterCommit(job, mode: outcome.plan?.mode ?? .full, outcome: &outcome, logger: logger)
                }
            }
        } catch {
            progress?.finish()
            // A signal can surface as any layer's error (a cancelled statement, an aborted transfer); the flag
            // says what really happened.
            outcome.fail(error, cancelled: cancellation.isCancelled)
            logger.error(
                "sync \(outcome.status == .cancelled ? "cancelled" : "failed")", metadata: ["error": "\(outcome.error ?? "\(error)")"])
        }
        outcome.seconds = (ContinuousClock.now - started).inSeconds
        if options.shard == nil, let runId = outcome.runId {
            recordUsage(
                RunUsage(
                    apiCalls: client.apiCallCount - callsBefore, resultBytes: outcome.resultBytes,
                    bulkJobs: client.bulkJobsCreated - jobsBefore, bulkJobSeconds: outcome.bulkJobSeconds),
                runId: runId, logger: logger)
        }
        return outcome
    }

    /// Records what the whole run spent (preflight to the deleted Bulk jobs) on its log row; a failure to do so
    /// costs only the figure, never the committed run.
    private func recordUsage(_ usage: RunUsage, runId: Int64, logger: Logger) {
        do { try store.recordUsage(usage, runId: runId) } catch {
            logger.warning("could not record the run's API usage", metadata: ["error": "\(error)"])
        }
    }

    /// What the watermark rule allows past the database's clock: clock skew, but never more than the job's
    /// overlap, which is what the next incremental run reads back over.
    static func futureAllowance(_ job: JobDefinition) -> Int {
        min(LoadRun.maxClockSkewSeconds, job.overlapSeconds)
    }
}

extension Duration {
    /// The duration in (fractional) seconds, for logs and summaries.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
