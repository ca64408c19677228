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
    public init(
        mode: SyncMode? = nil, lock: LockPolicy = .failFast, downloadConnections: Int = 4, maxPagesInFlight: Int? = nil,
        allowMassDelete: Bool = false
    ) {
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

    public init(
        connection: PostgresConnection, client: SalesforceClient, cancellation: CancellationFlag, logger: Logger,
        showProgress: Bool = false
    ) {
        self.connection = connection
        self.store = SyncStore(connection)
        self.client = client
        self.cancellation = cancellation
        self.logger = logger
        self.progress = showProgress ? ProgressLine() : nil
        self.fieldCheck = FieldCheck(client: client)
    }

    /// Runs each job in turn; a failing job does not stop the others, a cancelled one does.
    public func run(_ jobs: [JobDefinition], options: SyncOptions) -> [JobOutcome] {
        var outcomes: [JobOutcome] = []
        for job in jobs {
            if cancellation.isCancelled {
                outcomes.append(JobOutcome(job: job.name, status: .cancelled, error: "cancelled before it started", seconds: 0))
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
        var logger = self.logger
        logger[metadataKey: "job.name"] = "\(job.name)"
        logger[metadataKey: "sf.object"] = "\(job.object)"
        var outcome = JobOutcome(job: job.name, status: .success, seconds: 0)
        // Preflight: credentials and the job's fields are checked before anything touches a table, so a
        // configuration problem leaves every table as it was.
        do {
            job = try fieldCheck.check(job)
        } catch {
            outcome.status = ExitStatus(for: error)
            outcome.error = String(describing: error)
            logger.error("sync preflight failed", metadata: ["error": "\(error)"])
            return outcome
        }

        do {
            try store.withJobLock(job.name, table: job.table, policy: options.lock) { state in
                try sync(job, state: state, options: options, outcome: &outcome, logger: logger)
            }
            if outcome.summary != nil { refreshColumnsAfterCommit(job, mode: outcome.plan?.mode ?? .full, outcome: &outcome, logger: logger) }
        } catch {
            progress?.finish()
            // A signal can surface as any layer's error (a cancelled statement, an aborted transfer); the flag
            // says what really happened.
            outcome.status = cancellation.isCancelled ? .cancelled : ExitStatus(for: error)
            outcome.error = String(describing: error)
            logger.error("sync \(outcome.status == .cancelled ? "cancelled" : "failed")", metadata: ["error": "\(error)"])
        }
        outcome.seconds = (ContinuousClock.now - started).inSeconds
        return outcome
    }

    /// One run under the job's lock: plan, Bulk job, download into staging, and a commit only once Salesforce's
    /// count, the pages and the staged rows agree. A failure rolls back, aborts the Bulk job, and logs its row.
    private func sync(
        _ job: JobDefinition, state: JobState, options: SyncOptions, outcome: inout JobOutcome, logger: Logger
    ) throws {
        let callsBefore = client.apiCallCount
        let plan = try SyncPlan(job: job, requested: options.mode, previousWatermark: state.watermark)
        outcome.plan = plan
        let syncType: SyncType = plan.mode == .full ? .full : .incremental
        let run: LoadRun
        do {
            run = try LoadRun(
                store: store, state: state, jobName: job.name, objectName: job.object, mapping: job.loadMapping,
                syncType: syncType)
        } catch {
            store.logFailedStart(
                jobName: job.name, objectName: job.object, syncType: syncType, status: .failed, error: error,
                watermarkBefore: state.watermark, apiCalls: client.apiCallCount - callsBefore)
            throw error
        }
        logger.notice("sync started", metadata: ["sync.mode": "\(plan.mode.rawValue)", "sync.since": "\(plan.since ?? "-")"])
        var bulkJobId: String?
        var evidence = Reconciliation()
        // The run in progress: a first load that meets a key twice is tried once more through staging, on a new run.
        var current = run
        var runsMade = 0
        func makeRun() throws -> LoadRun {
            runsMade += 1
            if runsMade == 1 { return run }
            logger.notice("the results hold a key twice: loading through staging")
            return try LoadRun(
                store: store, state: state, jobName: job.name, objectName: job.object, mapping: job.loadMapping,
                syncType: syncType)
        }
        do {
            let bulkJob = try obtainBulkJob(for: plan, state: state, job: job, logger: logger)
            bulkJobId = bulkJob.id
            outcome.salesforceJobId = bulkJob.id
            let completed = try client.waitForCompletion(bulkJob.id)
            evidence.expected = completed.numberRecordsProcessed
            logger.info("bulk query complete", metadata: ["sf.job": "\(completed.id)", "sf.records": "\(completed.numberRecordsProcessed ?? -1)"])

            let (summary, download) = try LoadRun.loading(makeRun, current: { current = $0 }) { run in
                evidence.downloaded = nil
                evidence.pages = nil
                try run.begin()
                let consumer = PageLoader(run: run, progress: progress, logger: logger)
                let download = try downloadResults(
                    bulkJob.id, expectedRecords: completed.numberRecordsProcessed, job: job, options: options,
                    into: consumer, logger: logger)
                evidence.downloaded = download.records
                evidence.pages = download.pages
                progress?.finish()
                let summary = try run.commit(
                    CommitRequest(
                        fullSweep: plan.sweepsMissingKeys, reconciliation: evidence,
                        allowMassDelete: options.allowMassDelete, salesforceJobId: bulkJob.id,
                        apiCalls: client.apiCallCount - callsBefore))
                return (summary, download)
            }
            outcome.summary = summary
            logger.notice(
                "sync finished",
                metadata: [
                    "sync.pages": "\(download.pages)", "sync.expected": "\(evidence.expected ?? -1)",
                    "sync.path": "\(summary.path)",
                    "sync.staged": "\(summary.counts.staged)",
                    "sync.inserted": "\(summary.counts.inserted)", "sync.updated": "\(summary.counts.updated)",
                    "sync.unchanged": "\(summary.counts.unchanged)", "sync.deleted": "\(summary.counts.deleted)",
                    "sync.watermark": "\(summary.watermarkAfter ?? "-")",
                ]
            )
            // The rows are committed; the Bulk job's results are no longer needed. Salesforce would delete them
            // after 7 days anyway, so a failure here is only worth a warning.
            do { try client.deleteJob(bulkJob.id) } catch {
                logger.warning("could not delete the finished bulk job", metadata: ["sf.job": "\(bulkJob.id)", "error": "\(error)"])
            }
        } catch {
            let status: RunStatus = cancellation.isCancelled ? .cancelled : .failed
            if let bulkJobId { abandon(bulkJobId, logger: logger) }
            // A page that stayed incomplete or a chain that broke is the same finding as counts that disagree.
            let incomplete = (error as? SalesforceError)?.code == .incompleteResults
            current.fail(
                error, status: status, reconciliation: evidence, reason: incomplete ? .incomplete : nil,
                salesforceJobId: bulkJobId, apiCalls: client.apiCallCount - callsBefore)
            // The job was aborted and deleted above, so it is no longer in flight.
            if let bulkJobId { try? store.forgetInFlightBulkJob(bulkJobId, jobName: job.name) }
            throw error
        }
    }

    /// Reuses the Bulk job a killed run left behind when its results still serve this run, else submits a new one.
    ///
    /// See ``SyncPlan/canReuse(jobWithSignature:)`` for when a leftover job still serves this run.
    private func obtainBulkJob(for plan: SyncPlan, state: JobState, job: JobDefinition, logger: Logger) throws -> QueryJob {
        if let leftover = state.inFlightBulkJobId {
            // Only a job whose query still serves this run is worth a status call; the rest are abandoned.
            let sameQuery = state.inFlightBulkJobQuery.map { plan.canReuse(jobWithSignature: $0) } ?? false
            if sameQuery, let existing = try? client.queryJob(leftover), existing.state != "Failed",
                existing.state != "Aborted"
            {
                logger.notice("reusing the bulk job of an interrupted run", metadata: ["sf.job": "\(leftover)"])
                return existing
            }
            abandon(leftover, logger: logger)
        }
        let bulkJob = try client.createQueryJob(plan.soql, operation: plan.operation)
        // Recorded before anything else happens, in its own transaction: if this process dies now, the next run
        // finds the job instead of paying for a second one.
        do {
            try store.recordInFlightBulkJob(
                bulkJob.id, query: plan.signature, jobName: job.name, objectName: job.object, table: job.table)
        } catch {
            // Unrecorded, no later run would find it: abort it now rather than leave it running and billed.
            abandon(bulkJob.id, logger: logger)
            throw error
        }
        logger.info("bulk query submitted", metadata: ["sf.job": "\(bulkJob.id)", "sf.operation": "\(plan.operation.rawValue)"])
        return bulkJob
    }

    /// Aborts (if still running) and deletes a Bulk job this run no longer needs; best effort.
    private func abandon(_ id: String, logger: Logger) {
        let cleanup = client.withoutCancellation()
        if let job = try? cleanup.queryJob(id), !job.isTerminal {
            do { try cleanup.abortJob(id) } catch {
                logger.warning("could not abort the bulk job", metadata: ["sf.job": "\(id)", "error": "\(error)"])
            }
        }
        try? cleanup.deleteJob(id)
    }
}

extension Duration {
    /// The duration in (fractional) seconds, for logs and summaries.
    var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
