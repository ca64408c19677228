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
    public init(
        mode: SyncMode? = nil, lock: LockPolicy = .failFast, downloadConnections: Int = 4, maxPagesInFlight: Int? = nil
    ) {
        self.mode = mode
        self.lock = lock
        self.downloadConnections = downloadConnections
        self.maxPagesInFlight = maxPagesInFlight
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

        var loadRun: LoadRun?
        var bulkJobId: String?
        let callsBefore = client.apiCallCount
        do {
            let run = try LoadRun(
                connection: connection, jobName: job.name, objectName: job.object, mapping: job.loadMapping,
                syncType: .full, lock: options.lock
            )
            loadRun = run
            let plan = try SyncPlan(job: job, requested: options.mode, previousWatermark: run.previousWatermark)
            outcome.plan = plan
            run.syncType = plan.mode == .full ? .full : .incremental
            logger.notice("sync started", metadata: ["sync.mode": "\(plan.mode.rawValue)", "sync.since": "\(plan.since ?? "-")"])

            let bulkJob = try obtainBulkJob(for: plan, run: run, logger: logger)
            bulkJobId = bulkJob.id
            outcome.salesforceJobId = bulkJob.id
            let completed = try client.waitForCompletion(bulkJob.id)
            logger.info("bulk query complete", metadata: ["sf.job": "\(completed.id)", "sf.records": "\(completed.numberRecordsProcessed ?? -1)"])

            try run.begin()
            let consumer = PageLoader(run: run, progress: progress, logger: logger)
            let download = try downloadResults(
                bulkJob.id, job: job, options: options, expectedRecords: completed.numberRecordsProcessed, into: consumer,
                logger: logger)
            progress?.finish()
            let summary = try run.commit(
                fullSweep: plan.sweepsMissingKeys, salesforceJobId: bulkJob.id, apiCalls: client.apiCallCount - callsBefore
            )
            outcome.summary = summary
            logger.notice(
                "sync finished",
                metadata: [
                    "sync.pages": "\(download.pages)", "sync.staged": "\(summary.counts.staged)",
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
            refreshColumnsAfterCommit(job, mode: plan.mode, outcome: &outcome, logger: logger)
        } catch {
            progress?.finish()
            // A signal can surface as any layer's error (a cancelled statement, an aborted transfer); the flag
            // says what really happened.
            outcome.status = cancellation.isCancelled ? .cancelled : ExitStatus(for: error)
            outcome.error = String(describing: error)
            let status = outcome.status == .cancelled ? "cancelled" : "failed"
            logger.error("sync \(status)", metadata: ["error": "\(error)"])
            if let bulkJobId { abandon(bulkJobId, logger: logger) }
            loadRun?.fail(error, status: status, salesforceJobId: bulkJobId, apiCalls: client.apiCallCount - callsBefore)
            // The job was aborted and deleted above, so it is no longer in flight.
            if let bulkJobId { try? loadRun?.forgetInFlightBulkJob(bulkJobId) }
        }
        outcome.seconds = (ContinuousClock.now - started).inSeconds
        return outcome
    }

    /// Reuses the Bulk job a killed run left behind when its results still serve this run, else submits a new one.
    ///
    /// See ``SyncPlan/canReuse(jobWithSignature:)`` for when a leftover job still serves this run.
    private func obtainBulkJob(for plan: SyncPlan, run: LoadRun, logger: Logger) throws -> QueryJob {
        if let leftover = run.inFlightBulkJobId {
            // Only a job whose query still serves this run is worth a status call; the rest are abandoned.
            let sameQuery = run.inFlightBulkJobQuery.map { plan.canReuse(jobWithSignature: $0) } ?? false
            if sameQuery, let existing = try? client.queryJob(leftover), existing.state != "Failed",
                existing.state != "Aborted"
            {
                logger.notice("reusing the bulk job of an interrupted run", metadata: ["sf.job": "\(leftover)"])
                return existing
            }
            abandon(leftover, logger: logger)
        }
        let job = try client.createQueryJob(plan.soql, operation: plan.operation)
        // Recorded before anything else happens, in its own transaction: if this process dies now, the next run
        // finds the job instead of paying for a second one.
        try run.recordInFlightBulkJob(job.id, query: plan.signature)
        logger.info("bulk query submitted", metadata: ["sf.job": "\(job.id)", "sf.operation": "\(plan.operation.rawValue)"])
        return job
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
