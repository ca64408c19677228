import Foundation
import Logging
import PostgresLoader
import SalesforceClient

extension SyncRunner {
    /// Joins (or begins) the logical run of a shard, under the shard's locks: checks the job can be sharded,
    /// agrees on the ranges (the shard that begins the run reads them), and abandons what a killed normal run left.
    /// The shard then goes through the one pipeline (``sync(_:scope:state:options:outcome:logger:)``) with its
    /// range; the last shard's commit completes the run (``SyncStore/commitShard``).
    /// - Returns: the shard's slot, or nil when the shard had already succeeded in this run (nothing to do).
    func prepareShard(
        _ job: JobDefinition, shard: ShardSpec, state: JobState, options: SyncOptions, outcome: inout JobOutcome,
        logger: Logger
    ) throws -> ShardSlot? {
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
        let plan = try self.plan(for: job, scope: .object, state: state, options: SyncOptions(mode: .full))
        var splitPlan = plan
        splitPlan.split = shard.count
        let slot = try store.joinShardRun(
            jobName: job.name, objectName: job.object, runName: shard.runName, index: shard.index, count: shard.count,
            fingerprint: "\(plan.signature) | \(job.table.quoted) | key \(job.key) | \(shard.count) shards",
            watermarkBefore: state.watermark
        ) {
            // Only the shard that begins the run gets here: the same two one-Id queries and interpolation as split
            // mode, computed once and recorded for every shard.
            try splitRanges(for: splitPlan, jobs: BulkJobs(client: client, plan: splitPlan, logger: logger) { _, _ in }).boundaries
        }
        if let leftover = state.inFlightBulkJobId {
            // A killed normal run's jobs (normal runs and shards exclude each other, so it is dead): a full read
            // never reuses them, and the last shard's commit clears the bookkeeping that would have found them.
            for id in leftover.split(separator: ",") { BulkJobs.abandon(String(id), client: client, logger: logger) }
            try? store.forgetInFlightBulkJob(leftover, jobName: job.name)
        }
        if slot.alreadySucceeded {
            // Kubernetes may restart a pod that had in fact finished; redoing the range would only cost API calls.
            logger.notice("shard already succeeded in this run: nothing to do")
            outcome.note = "shard \(shard) already succeeded in run '\(slot.runName)'; nothing to do"
            return nil
        }
        // A killed attempt's Bulk job (slot.leftoverBulkJobId) is resumed or abandoned by the pipeline's obtain.
        logger.notice("shard started", metadata: ["sync.range": "\(slot.range)", "sync.attempt": .stringConvertible(slot.attempt)])
        return slot
    }
}
