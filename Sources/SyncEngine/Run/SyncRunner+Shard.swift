import Foundation
import Logging
import PostgresLoader
import SalesforceClient

extension SyncRunner {
    /// One shard of a sharded full run, under the shard's locks: join (or begin) the logical run, read its agreed
    /// range with one Bulk job, load it through staging, and commit the rows with the shard's row; the last shard's
    /// commit completes the run (``SyncStore/commitShard``). A failure rolls back this shard only and marks it (and
    /// the run's log row) failed; a rerun of the same index redoes just this range.
    func syncShard(
        _ job: JobDefinition, shard: ShardSpec, state: JobState, options: SyncOptions, outcome: inout JobOutcome,
        logger: Logger
    ) throws {
        let callsBefore = client.apiCallCount
        guard options.mode == .full || (options.mode == nil && state.watermark == nil) else {
            throw SyncError(
                "job '\(job.name)': --shard needs a full run (the shards sweep their ranges), and this run would be "
                    + "incremental: add --full", exitStatus: .configuration)
        }
        guard job.key.caseInsensitiveEquals("Id") else {
            throw SyncError(
                "job '\(job.name)': --shard splits the run by Id ranges, and the job's key is '\(job.key)': each "
                    + "shard sweeps its range of the key, so a key other than Id would sweep rows another shard loads. "
                    + "Use split: N (one process) for this job, or key it on Id", exitStatus: .configuration)
        }
        var plan = try SyncPlan(job: job, requested: .full, previousWatermark: state.watermark)
        // Shards are the split: each reads its range with one Bulk job, whatever the job's `split` says.
        plan.split = shard.count
        outcome.plan = plan
        let slot = try store.joinShardRun(
            jobName: job.name, objectName: job.object, runName: shard.runName, index: shard.index, count: shard.count,
            fingerprint: "\(plan.signature) | \(job.table.quoted) | key \(job.key) | \(shard.count) shards",
            watermarkBefore: state.watermark
        ) {
            // Only the shard that begins the run gets here: the same two one-Id queries and interpolation as split
            // mode, computed once and recorded for every shard.
            try splitRanges(for: plan, job: job, logger: logger).boundaries
        }
        var logger = logger
        logger[metadataKey: "sync.shard_run"] = "\(slot.runName)"
        if let leftover = state.inFlightBulkJobId {
            // A killed normal run's jobs (normal runs and shards exclude each other, so it is dead): a full read
            // never reuses them, and the last shard's commit clears the bookkeeping that would have found them.
            for id in leftover.split(separator: ",") { abandon(String(id), logger: logger) }
            try? store.forgetInFlightBulkJob(leftover, jobName: job.name)
        }
        if slot.alreadySucceeded {
            // Kubernetes may restart a pod that had in fact finished; redoing the range would only cost API calls.
            logger.notice("shard already succeeded in this run: nothing to do")
            outcome.note = "shard \(shard) already succeeded in run '\(slot.runName)'; nothing to do"
            return
        }
        if let leftover = slot.leftoverBulkJobId {
            // A killed attempt's job: a full read never reuses a snapshot it cannot verify.
            for id in leftover.split(separator: ",") { abandon(String(id), logger: logger) }
            try store.recordShardBulkJob(nil, slot: slot)
        }
        let run: LoadRun
        do {
            run = try LoadRun(
                store: store, state: state, jobName: job.name, objectName: job.object, mapping: job.loadMapping,
                syncType: .full, shard: slot)
        } catch {
            store.failShard(slot, error: error, status: .failed, reason: nil, apiCalls: client.apiCallCount - callsBefore)
            throw error
        }
        let ranges = SplitRanges(boundaries: slot.boundaries)
        logger.notice(
            "shard started",
            metadata: ["sync.range": "\(slot.range)", "sync.attempt": "\(slot.attempt)"])
        var bulkJobId: String?
        var evidence = Reconciliation()
        do {
            var download = DownloadSummary(pages: 0, records: 0, bytes: 0)
            var snapshots: [SnapshotScope] = []
            if shard.index < ranges.count {
                let created = try client.createQueryJob(
                    plan.soql(range: ranges.condition(shard.index)), operation: plan.operation)
                bulkJobId = created.id
                outcome.salesforceJobId = created.id
                // Recorded before anything else happens, in its own transaction: a rerun after a kill aborts it.
                try store.recordShardBulkJob(created.id, slot: slot)
                let done = try client.waitForCompletion(created.id)
                evidence.expected = done.numberRecordsProcessed
                snapshots = [SnapshotScope(range: slot.range, createdDate: done.createdDate)]
                try run.begin()
                download = try downloadResults(
                    created.id, expectedRecords: done.numberRecordsProcessed, job: job, options: options,
                    into: PageLoader(run: run, progress: progress, logger: logger), logger: logger)
            } else {
                // Fewer ranges than shards (too few Ids to split N ways): this shard owns no key.
                evidence.expected = 0
                try run.begin()
            }
            evidence.downloaded = download.records
            evidence.pages = download.pages
            progress?.finish()
            let summary = try run.commit(
                CommitRequest(
                    fullSweep: plan.sweepsMissingKeys, reconciliation: evidence,
                    allowMassDelete: options.allowMassDelete, salesforceJobId: bulkJobId,
                    apiCalls: client.apiCallCount - callsBefore, snapshots: snapshots,
                    maxFutureSeconds: Self.futureAllowance(job)))
            outcome.summary = summary
            logger.notice(
                summary.completedShardRun ? "shard finished: the sharded run is complete" : "shard finished",
                metadata: [
                    "sync.pages": "\(download.pages)", "sync.expected": "\(evidence.expected ?? -1)",
                    "sync.staged": "\(summary.counts.staged)", "sync.inserted": "\(summary.counts.inserted)",
                    "sync.updated": "\(summary.counts.updated)", "sync.deleted": "\(summary.counts.deleted)",
                    "sync.watermark": "\(summary.watermarkAfter ?? "-")",
                ])
            if let bulkJobId {
                do { try client.deleteJob(bulkJobId) } catch {
                    logger.warning("could not delete the finished bulk job", metadata: ["sf.job": "\(bulkJobId)", "error": "\(error)"])
                }
            }
        } catch {
            let status: RunStatus = cancellation.isCancelled ? .cancelled : .failed
            if let bulkJobId { abandon(bulkJobId, logger: logger) }
            let incomplete = (error as? SalesforceError)?.code == .incompleteResults
            run.fail(
                error, status: status, reconciliation: evidence, reason: incomplete ? .incomplete : nil,
                salesforceJobId: bulkJobId, apiCalls: client.apiCallCount - callsBefore)
            throw error
        }
    }
}
