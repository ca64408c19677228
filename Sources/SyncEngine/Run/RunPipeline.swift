import Logging
import PostgresLoader
import SalesforceClient

/// What one pass of the run pipeline reads and where it loads it. Every mode is a scope of the one pipeline:
/// incremental, full, `split: N` and its re-split ranges read the object; `--shard` reads one Id range of a
/// logical run; a backfill or a formula refresh reads some columns of the rows already loaded.
enum RunScope {
    case object
    case shard(ShardSlot)
    case columns(ColumnPass)
    /// `sfpg verify --repair`: the records of the windows where drift was found (a SOQL condition), merged like a
    /// run's; with `sweepsExtras`, the keys the verify staged as gone from Salesforce are swept within `max_sweep`.
    /// The watermark stays where it was. `byKey`: a few named records (a change stream's re-reads), read through
    /// REST `queryAll` rather than a Bulk job, which would cost minutes and a daily job for a handful of rows.
    case repair(condition: String, sweepsExtras: Bool, byKey: Bool = false)

    var shard: ShardSlot? {
        if case .shard(let slot) = self { return slot }
        return nil
    }

    var sweepsExtras: Bool {
        if case .repair(_, let sweeps, _) = self { return sweeps }
        return false
    }

    var isColumns: Bool {
        if case .columns = self { return true }
        return false
    }
}

/// The columns a column pass re-reads and what its commit records.
struct ColumnPass {
    var fields: [JobDefinition.FieldMapping]
    /// Stored as the job's synced fields after a backfill; nil leaves them.
    var recordSyncedFields: [String]?
    /// The pass re-reads formula fields: their refresh time is recorded.
    var calculated: Bool
    /// The run that triggered the pass, for its audit rows.
    var runId: Int64?
}

extension SyncRunner {
    /// The one run pipeline: plan → Bulk job(s) (created, recorded, waited for, re-split: ``BulkJobs``) → pages
    /// into the target → proof (Salesforce's count = the pages = the staged rows) → merge, sweep, watermark and log
    /// → commit, all in one transaction. A failure rolls back, abandons every Bulk job and logs its row.
    /// - Returns: the pass's summary (also in `outcome` unless the scope is columns).
    @discardableResult
    func sync(
        _ job: JobDefinition, scope: RunScope, state: JobState, options: SyncOptions, outcome: inout JobOutcome,
        logger: Logger
    ) throws -> RunSummary {
        let callsBefore = client.apiCallCount
        let connectionsBefore = client.connectionsOpened
        let plan = try plan(for: job, scope: scope, state: state, options: options)
        if !scope.isColumns { outcome.plan = plan }
        let first = try makeTarget(job, scope: scope, plan: plan, state: state, apiCalls: { self.client.apiCallCount - callsBefore })
        logger.notice(
            scope.isColumns ? "column pass started" : "sync started",
            metadata: ["sync.mode": "\(plan.mode.rawValue)", "sync.since": "\(plan.since ?? "-")"])
        let budget = ApiBudget(job: job, options: options, client: client, logger: logger)
        let record = { [store] (ids: [String], signature: String) throws in
            if let slot = scope.shard { return try store.recordShardBulkJob(ids.first, slot: slot) }
            try store.recordInFlightBulkJob(
                ids.joined(separator: ","), query: signature, jobName: job.name, objectName: job.object, table: job.table)
        }
        let jobs = BulkJobs(
            client: client, plan: plan, logger: logger, onCreated: onBulkJobCreated, budget: budget, record: record)
        let deletes = deletesCheckPass(job, scope: scope, plan: plan, logger: logger) { try record(jobs.ids + $0, $1) }
        var evidence = Reconciliation()
        var current: any RunTarget = first
        do {
            let ranges = try obtainReading(jobs, for: plan, scope: scope, state: state, job: job)
            // Parts are joined in staging, never copied straight into the table.
            if jobs.parts != nil { (first as? LoadRun)?.allowsDirectLoad = false }
            if !scope.isColumns { outcome.salesforceJobId = jobs.joinedIds }
            try jobs.waitForAll(resplitting: ranges, cancellation: cancellation)
            if !scope.isColumns {
                outcome.salesforceJobId = jobs.joinedIds
                outcome.bulkJobSeconds = jobs.waitSeconds
            }
            evidence.expected = jobs.expectedRecords
            try deletes?.prepare(end: jobs.earliestCreation, state: state, bulkReadable: !jobs.readsThroughREST)
            let (summary, download) = try load(
                jobs, job: job, scope: scope, plan: plan, state: state, options: options, first: first, current: &current,
                evidence: &evidence, deletes: deletes, apiCalls: { self.client.apiCallCount - callsBefore })
            if !scope.isColumns { (outcome.summary, outcome.resultBytes) = (summary, download.bytes) }
            logFinished(summary, download, evidence: evidence, jobs: jobs, calls: client.apiCallCount - callsBefore,
                        connections: client.connectionsOpened - connectionsBefore, logger: logger)
            jobs.deleteAll()
            deletes?.keyJobs?.deleteAll()
            if scope.isColumns, let ids = jobs.joinedIds { try? store.forgetInFlightBulkJob(ids, jobName: job.name) }
            return summary
        } catch {
            throw failPass(
                error, jobs: jobs, job: job, scope: scope, target: current, evidence: evidence, deletes: deletes,
                calls: client.apiCallCount - callsBefore)
        }
    }

    /// A failed pass: its Bulk jobs abandoned (or kept with their staged pages for a resumable rerun), its run-log
    /// row written; returns the error to rethrow.
    private func failPass(
        _ error: any Error, jobs: BulkJobs, job: JobDefinition, scope: RunScope, target current: any RunTarget,
        evidence: Reconciliation, deletes: DeletesCheckPass?, calls: Int
    ) -> any Error {
        let status: RunStatus = cancellation.isCancelled ? .cancelled : .failed
        let keep = keepsStagedPages(jobs, after: error)
        if !keep { jobs.abandonAll() }
        // A page that stayed incomplete or a chain that broke is the same finding as counts that disagree.
        let incomplete = (error as? SalesforceError)?.code == .incompleteResults
        let overBudget = (error as? SyncError)?.reason == .apiBudget
        current.fail(
            status == .cancelled ? SyncError.cancelledBySignal : error, status: status, reconciliation: evidence,
            reason: incomplete ? .incomplete : overBudget ? .apiBudget : nil, salesforceJobId: jobs.joinedIds,
            apiCalls: calls)
        if keep { return error }
        if let key = scope.resumeKey, jobs.resumed != nil { try? store.dropStagedRun(jobName: job.name, scope: key) }
        // The jobs were aborted and deleted above, so they are no longer in flight.
        if scope.shard == nil, let ids = jobs.joinedIds { try? store.forgetInFlightBulkJob(ids, jobName: job.name) }
        deletes?.abandon(after: jobs, store: store)
        return error
    }

    /// What the pass asks Salesforce for.
    func plan(for job: JobDefinition, scope: RunScope, state: JobState, options: SyncOptions) throws -> SyncPlan {
        switch scope {
        case .object:
            return try SyncPlan(job: job, requested: options.mode, previousWatermark: state.watermark)
        case .shard(let slot):
            var plan = try SyncPlan(job: job, requested: .full, previousWatermark: state.watermark)
            plan.split = slot.count
            return plan
        case .repair(let condition, _, _):
            return try SyncPlan.windows(of: job, condition: condition)
        case .columns(let pass):
            let mapping = job.loadMapping
            return try SyncPlan.columns(
                of: job, fields: [mapping.key.source, mapping.modstamp.source] + pass.fields.map(\.source))
        }
    }

    /// The pass's target, checked against the table before any Bulk job exists; a run that cannot even begin
    /// still leaves its log row.
    func makeTarget(
        _ job: JobDefinition, scope: RunScope, plan: SyncPlan, state: JobState, apiCalls: () -> Int
    ) throws -> any RunTarget {
        var syncType: SyncType = plan.mode == .full ? .full : .incremental
        if case .repair = scope { syncType = .repair }
        do {
            switch scope {
            case .object, .shard, .repair:
                return try LoadRun(
                    store: store, state: state, jobName: job.name, objectName: job.object, mapping: job.loadMapping,
                    syncType: syncType, shard: scope.shard)
            case .columns(let pass):
                return try ColumnRefresh(
                    store: store, jobName: job.name, mapping: job.loadMapping,
                    columns: pass.fields.map { ColumnMapping(source: $0.source, column: $0.column) },
                    recordSyncedFields: pass.recordSyncedFields, calculatedRefreshed: pass.calculated, runId: pass.runId)
            }
        } catch {
            let error = TargetTableCheck.explained(error, job)
            if let slot = scope.shard {
                store.failShard(slot, error: error, status: .failed, reason: nil, apiCalls: apiCalls())
            } else if !scope.isColumns {
                store.logFailedStart(
                    jobName: job.name, objectName: job.object, syncType: syncType, status: .failed, error: error,
                    watermarkBefore: state.watermark, apiCalls: apiCalls())
            }
            throw error
        }
    }

    /// Fills `jobs` with the Bulk jobs this pass reads: the one a killed run left behind when its results still
    /// serve this run (``SyncPlan/canReuse(jobWithSignature:)``), else new ones — one, one per `split: N` range
    /// (submitted together so they run concurrently on Salesforce), or the shard's range.
    /// - Returns: the ranges when the run split, so a failing range can be split again; nil otherwise.
    func obtain(_ jobs: BulkJobs, for plan: SyncPlan, scope: RunScope, state: JobState, job: JobDefinition) throws -> SplitRanges? {
        switch scope {
        case .shard(let slot):
            let ranges = SplitRanges(boundaries: slot.boundaries)
            // Fewer ranges than shards (too few Ids to split N ways): this shard owns no key and reads nothing.
            guard slot.index < ranges.count else { return nil }
            if try resumeStaged(jobs, job: job, plan: plan, scope: scope, leftover: slot.leftoverBulkJobId) { return nil }
            if let leftover = slot.leftoverBulkJobId {
                // A killed attempt's job that staged nothing resumable: a full read never reuses a snapshot it
                // cannot verify.
                for id in leftover.split(separator: ",") { jobs.abandon(String(id)) }
                try store.recordShardBulkJob(nil, slot: slot)
            }
            try jobs.create(SplitRanges(boundaries: []), readingShard: ranges.condition(slot.index))
            return nil
        case .columns, .repair:
            jobs.signature = (scope.isColumns ? "columns " : "repair ") + plan.signature
            try jobs.create(SplitRanges(boundaries: []))
            return nil
        case .object:
            if try resumeStaged(jobs, job: job, plan: plan, scope: scope, leftover: state.inFlightBulkJobId) { return nil }
            if try reuseLeftover(jobs, plan: plan, state: state) { return nil }
            let ranges = try splitRanges(for: plan, jobs: jobs)
            beforeSplitJobs?(ranges)
            // A split run's signature never matches a later plan's (a full plan never reuses; the suffix keeps an
            // incremental one from taking the first range for the whole object).
            if ranges.count > 1 { jobs.signature += " -- split \(ranges.count)" }
            try jobs.create(ranges)
            return ranges.count > 1 ? ranges : nil
        }
    }

    /// Adopts the Bulk job an interrupted run left when its query still serves this plan; abandons the others.
    func reuseLeftover(_ jobs: BulkJobs, plan: SyncPlan, state: JobState) throws -> Bool {
        guard let leftover = state.inFlightBulkJobId else { return false }
        let leftovers = leftover.split(separator: ",").map(String.init)
        // Only a single job whose query still serves this run is worth a status call; the rest are abandoned.
        let sameQuery = leftovers.count == 1 && (state.inFlightBulkJobQuery.map { plan.canReuse(jobWithSignature: $0) } ?? false)
        if sameQuery, let existing = try? client.queryJob(leftover), existing.state != .failed, existing.state != .aborted {
            jobs.logger.notice("reusing the bulk job of an interrupted run", metadata: ["sf.job": "\(leftover)"])
            jobs.adopt([existing])
            return true
        }
        for id in leftovers { jobs.abandon(id) }
        return false
    }

    /// Downloads every completed job into a target, proves and commits. A first load that copied straight into
    /// an empty table and met a key twice is rolled back and loaded once more through staging.
    func load(
        _ jobs: BulkJobs, job: JobDefinition, scope: RunScope, plan: SyncPlan, state: JobState, options: SyncOptions,
        first: any RunTarget, current: inout any RunTarget, evidence: inout Reconciliation, deletes: DeletesCheckPass? = nil,
        apiCalls: () -> Int
    ) throws -> (RunSummary, DownloadSummary) {
        var inProgress = first
        defer { current = inProgress }
        return try withStagedFallback(
            first: first,
            staged: {
                jobs.logger.notice("the results hold a key twice: loading through staging")
                let second = try makeTarget(job, scope: scope, plan: plan, state: state, apiCalls: apiCalls)
                (second as? LoadRun)?.allowsDirectLoad = false
                return second
            },
            current: { inProgress = $0 }
        ) { target in
            try loadOnce(
                jobs, into: target, job: job, scope: scope, plan: plan, options: options, evidence: &evidence,
                deletes: deletes, apiCalls: apiCalls)
        }
    }

    private func loadOnce(
        _ jobs: BulkJobs, into target: any RunTarget, job: JobDefinition, scope: RunScope, plan: SyncPlan,
        options: SyncOptions, evidence: inout Reconciliation, deletes: DeletesCheckPass?, apiCalls: () -> Int
    ) throws -> (RunSummary, DownloadSummary) {
        evidence.downloaded = nil
        evidence.pages = nil
        let staged = try stageResumablyIfLarge(target, jobs: jobs, job: job, scope: scope, plan: plan, options: options)
        try target.begin()
        if !scope.isColumns { progress?.start(job: job.name) }
        let consumer = PageLoader(run: target, progress: scope.isColumns ? nil : progress, logger: jobs.logger)
        let download = try readResults(
            jobs, into: target, consumer: consumer, job: job, scope: scope, options: options, staged: staged,
            evidence: &evidence)
        if let key = scope.resumeKey, jobs.resumed != nil, let ledger = try store.stagedRun(jobName: job.name, scope: key)?.total {
            // What the proof holds against Salesforce's count: the ledger of every page staged, by this process or
            // the killed one before it.
            evidence.downloaded = ledger.records
            evidence.pages = ledger.pages
        }
        progress?.finish()
        let check = try deletesCheck(deletes, into: target, jobs: jobs, job: job, scope: scope, plan: plan, options: options)
        let summary = try target.commit(
            CommitRequest(
                fullSweep: plan.sweepsMissingKeys, reconciliation: evidence, allowMassDelete: options.allowMassDelete,
                salesforceJobId: jobs.joinedIds, apiCalls: apiCalls(), snapshots: jobs.snapshots(within: scope.shard?.range),
                maxFutureSeconds: Self.futureAllowance(job), orgId: try OrgCheck(client: client, logger: logger).stillIn(options.checkedOrg),
                sweepWithin: scope.sweepsExtras ? .verifiedExtras : nil,
                deletesCheck: check))
        return (summary, download)
    }

    /// What the commit applies of deletes: an incremental run's check, staged now in its transaction; for a full
    /// run that swept, its snapshot as the position the next check starts from.
    private func deletesCheck(
        _ deletes: DeletesCheckPass?, into target: any RunTarget, jobs: BulkJobs, job: JobDefinition, scope: RunScope,
        plan: SyncPlan, options: SyncOptions
    ) throws -> DeletesCheck? {
        guard case .object = scope, let run = target as? LoadRun else { return nil }
        if let deletes {
            return try deletes.stage(into: run) { done, loader in
                try downloadResults(
                    done.id, expectedRecords: done.numberRecordsProcessed, job: job, options: options, into: loader,
                    logger: jobs.logger)
            }
        }
        guard plan.sweepsMissingKeys, let snapshot = jobs.earliestCreation else { return nil }
        return .covered(until: formatTimestamp(snapshot))
    }

    private func logFinished(
        _ summary: RunSummary, _ download: DownloadSummary, evidence: Reconciliation, jobs: BulkJobs, calls: Int,
        connections: Int, logger: Logger
    ) {
        let counts = summary.counts
        logger.notice(
            summary.completedShardRun ? "shard finished: the sharded run is complete" : "sync finished",
            metadata: [
                "sync.pages": .stringConvertible(download.pages), "sync.bytes_downloaded": .stringConvertible(download.bytes), "sync.expected": .stringConvertible(evidence.expected ?? -1),
                "sync.bulk_jobs": .stringConvertible(jobs.ids.count), "sync.api_calls": .stringConvertible(calls),
                "sync.connections_opened": .stringConvertible(connections), "sync.path": "\(summary.path)",
                "sync.staged": .stringConvertible(counts.staged), "sync.inserted": .stringConvertible(counts.inserted),
                "sync.updated": .stringConvertible(counts.updated), "sync.unchanged": .stringConvertible(counts.unchanged),
                "sync.deleted": .stringConvertible(counts.deleted), "sync.watermark": "\(summary.watermarkAfter ?? "-")",
            ])
    }
}
