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
    public init(
        mode: SyncMode? = nil, lock: LockPolicy = .failFast, downloadConnections: Int = 4, maxPagesInFlight: Int? = nil,
        allowMassDelete: Bool = false, shard: ShardSpec? = nil
    ) {
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
    /// Why the job failed; `nil` when it did not (or only its ``status`` is known).
    public var reason: ExitReason? = nil
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
            outcome.fail(error)
            logger.error("sync preflight failed", metadata: ["error": "\(error)"])
            return outcome
        }

        do {
            if let shard = options.shard {
                logger[metadataKey: "sync.shard"] = "\(shard)"
                try store.withShardLock(job.name, table: job.table, index: shard.index, policy: options.lock) { state in
                    try syncShard(job, shard: shard, state: state, options: options, outcome: &outcome, logger: logger)
                }
            } else {
                try store.withJobLock(job.name, table: job.table, policy: options.lock) { state in
                    try sync(job, state: state, options: options, outcome: &outcome, logger: logger)
                }
            }
            // A shard's rows are only part of the table: the columns are recorded once, by the run's last shard.
            if let summary = outcome.summary, options.shard == nil || summary.completedShardRun { refreshColumnsAfterCommit(job, mode: outcome.plan?.mode ?? .full, outcome: &outcome, logger: logger) }
        } catch {
            progress?.finish()
            // A signal can surface as any layer's error (a cancelled statement, an aborted transfer); the flag
            // says what really happened.
            outcome.fail(error, cancelled: cancellation.isCancelled)
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
        let connectionsBefore = client.connectionsOpened
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
        // Every live Bulk job this run created or reused, in range order (one unless the job splits a full run);
        // a range split again after its job failed is replaced here by its halves' jobs.
        var bulkJobs: [RangeJob] = []
        var bulkJobIds: [String] { bulkJobs.map(\.id) }
        var joinedIds: String? { bulkJobIds.isEmpty ? nil : bulkJobIds.joined(separator: ",") }
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
            let split = try obtainBulkJobs(for: plan, state: state, job: job, into: &bulkJobs, logger: logger)
            outcome.salesforceJobId = joinedIds
            // The jobs ran concurrently on Salesforce; each is waited for (a range whose job failed for its size is
            // read again as two halves), then all are downloaded into the one run.
            let completed = try waitForRangeJobs(&bulkJobs, split: split, plan: plan, job: job, logger: logger)
            outcome.salesforceJobId = joinedIds
            // Σ of every job's count: one missing count leaves the run unable to prove itself complete.
            evidence.expected = completed.reduce(Optional(0)) { sum, done in
                sum.flatMap { sum in done.numberRecordsProcessed.map { sum + $0 } }
            }

            let (summary, download) = try LoadRun.loading(makeRun, current: { current = $0 }) { run in
                evidence.downloaded = nil
                evidence.pages = nil
                try run.begin()
                let consumer = PageLoader(run: run, progress: progress, logger: logger)
                var download = DownloadSummary(pages: 0, records: 0, bytes: 0)
                for done in completed {
                    let part = try downloadResults(
                        done.id, expectedRecords: done.numberRecordsProcessed, job: job, options: options,
                        into: consumer, logger: logger)
                    download.pages += part.pages
                    download.records += part.records
                    download.bytes += part.bytes
                    download.peakPagesInFlight = max(download.peakPagesInFlight, part.peakPagesInFlight)
                }
                evidence.downloaded = download.records
                evidence.pages = download.pages
                progress?.finish()
                let summary = try run.commit(
                    CommitRequest(
                        fullSweep: plan.sweepsMissingKeys, reconciliation: evidence,
                        allowMassDelete: options.allowMassDelete, salesforceJobId: joinedIds,
                        apiCalls: client.apiCallCount - callsBefore))
                return (summary, download)
            }
            outcome.summary = summary
            logger.notice(
                "sync finished",
                metadata: [
                    "sync.pages": "\(download.pages)", "sync.expected": "\(evidence.expected ?? -1)",
                    "sync.bulk_jobs": "\(bulkJobIds.count)",
                    "sync.api_calls": "\(client.apiCallCount - callsBefore)",
                    "sync.connections_opened": "\(client.connectionsOpened - connectionsBefore)",
                    "sync.path": "\(summary.path)",
                    "sync.staged": "\(summary.counts.staged)",
                    "sync.inserted": "\(summary.counts.inserted)", "sync.updated": "\(summary.counts.updated)",
                    "sync.unchanged": "\(summary.counts.unchanged)", "sync.deleted": "\(summary.counts.deleted)",
                    "sync.watermark": "\(summary.watermarkAfter ?? "-")",
                ]
            )
            // The rows are committed; the Bulk jobs' results are no longer needed. Salesforce would delete them
            // after 7 days anyway, so a failure here is only worth a warning.
            for id in bulkJobIds {
                do { try client.deleteJob(id) } catch {
                    logger.warning("could not delete the finished bulk job", metadata: ["sf.job": "\(id)", "error": "\(error)"])
                }
            }
        } catch {
            let status: RunStatus = cancellation.isCancelled ? .cancelled : .failed
            for id in bulkJobIds { abandon(id, logger: logger) }
            // A page that stayed incomplete or a chain that broke is the same finding as counts that disagree.
            let incomplete = (error as? SalesforceError)?.code == .incompleteResults
            current.fail(
                error, status: status, reconciliation: evidence, reason: incomplete ? .incomplete : nil,
                salesforceJobId: joinedIds, apiCalls: client.apiCallCount - callsBefore)
            // The jobs were aborted and deleted above, so they are no longer in flight.
            if let joinedIds { try? store.forgetInFlightBulkJob(joinedIds, jobName: job.name) }
            throw error
        }
    }

    /// Fills `jobs` with the Bulk jobs this run reads: the one a killed run left behind when its results still serve
    /// this run, else new ones — one, or for a full run of a job with `split: N` up to N over disjoint `Id` ranges
    /// (``SplitRanges``), submitted together so they run concurrently on Salesforce.
    ///
    /// Each id is recorded in `sfpg.sync_state` (comma-separated) as soon as its job exists, and `jobs` grows with
    /// each creation, so a failure part-way still lets the caller abort every job created so far.
    /// See ``SyncPlan/canReuse(jobWithSignature:)`` for when a leftover job still serves this run.
    /// - Returns: the ranges when the run split, so a failing range can be split again; nil otherwise.
    private func obtainBulkJobs(
        for plan: SyncPlan, state: JobState, job: JobDefinition, into jobs: inout [RangeJob], logger: Logger
    ) throws -> SplitRun? {
        if let leftover = state.inFlightBulkJobId {
            let leftovers = leftover.split(separator: ",").map(String.init)
            // Only a single job whose query still serves this run is worth a status call; the rest are abandoned.
            let sameQuery = leftovers.count == 1 && (state.inFlightBulkJobQuery.map { plan.canReuse(jobWithSignature: $0) } ?? false)
            if sameQuery, let existing = try? client.queryJob(leftover), existing.state != "Failed",
                existing.state != "Aborted"
            {
                logger.notice("reusing the bulk job of an interrupted run", metadata: ["sf.job": "\(leftover)"])
                jobs = [RangeJob(id: existing.id, range: nil, resplits: 0)]
                return nil
            }
            for id in leftovers { abandon(id, logger: logger) }
        }
        let ranges = try splitRanges(for: plan, job: job, logger: logger)
        beforeSplitJobs?(ranges)
        // A split run's signature never matches a later plan's (a full plan never reuses; the suffix keeps an
        // incremental one from taking the first range for the whole object).
        let signature = ranges.count > 1 ? plan.signature + " -- split \(ranges.count)" : plan.signature
        for index in 0..<ranges.count {
            let bulkJob = try client.createQueryJob(plan.soql(range: ranges.condition(index)), operation: plan.operation)
            jobs.append(RangeJob(id: bulkJob.id, range: ranges.count > 1 ? ranges.range(index) : nil, resplits: 0))
            // Recorded before anything else happens, in its own transaction: if this process dies now, the next run
            // finds the jobs instead of paying for them twice. If recording fails, no later run would find them: the
            // caller aborts every job in `jobs` at once rather than leave them running and billed.
            try store.recordInFlightBulkJob(
                jobs.map(\.id).joined(separator: ","), query: signature, jobName: job.name, objectName: job.object,
                table: job.table)
            logger.info(
                "bulk query submitted",
                metadata: [
                    "sf.job": "\(bulkJob.id)", "sf.operation": "\(plan.operation.rawValue)",
                    "sf.range": "\(ranges.condition(index) ?? "all")",
                ])
        }
        return ranges.count > 1 ? SplitRun(ranges: ranges, signature: signature) : nil
    }

    /// Aborts (if still running) and deletes a Bulk job this run no longer needs; best effort.
    func abandon(_ id: String, logger: Logger) {
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
