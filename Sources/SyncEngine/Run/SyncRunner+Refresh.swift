import Logging
import PostgresLoader
import SalesforceClient

/// After a committed run, under the same lock: backfills fields the job gained since its table was last loaded,
/// and re-reads formula fields when their cadence is due. Both are column passes of the one pipeline (key,
/// modstamp and the fields) that update existing rows only, never a full reload.
extension SyncRunner {
    /// Runs the backfill and the formula refresh a committed run of `job` calls for.
    /// - Returns: rows updated by each pass, for the log.
    @discardableResult
    func refreshColumns(_ job: JobDefinition, mode: SyncMode, runId: Int64?, logger: Logger) throws -> (backfilled: Int, refreshed: Int) {
        let state = try store.state(ofJob: job.name)
        let all = job.fields.map(\.source)
        let special = [job.key, job.watermark]
        var backfilled = 0
        var refreshed = 0
        if mode == .full || state.syncedFields == nil {
            // A full run compared and wrote every mapped column of every row, formulas included (the merge rewrites
            // a row whose values differ at the same version), so they are loaded and fresh as of its snapshot.
            // Without a record (first run, or a table from before sfpg tracked fields) the current fields are taken
            // as loaded.
            try store.recordColumns(jobName: job.name, syncedFields: all, calculatedRefreshed: mode == .full)
            if mode == .full { return (0, 0) }
        } else if let synced = state.syncedFields {
            let added = job.fields.filter { field in
                !synced.contains { $0.caseInsensitiveEquals(field.source) } && !special.contains { $0.caseInsensitiveEquals(field.source) }
            }
            if !added.isEmpty {
                logger.notice("backfilling fields new to the job", metadata: ["sync.fields": "\(added.map(\.source).joined(separator: ","))"])
                backfilled = try columnPass(
                    job, ColumnPass(fields: added, recordSyncedFields: all, calculated: false, runId: runId), logger: logger)
            } else if Set(synced.map { $0.lowercased() }) != Set(all.map { $0.lowercased() }) {
                // Fields left the job: forget them, so mapping one again later backfills it.
                try store.recordColumns(jobName: job.name, syncedFields: all, calculatedRefreshed: false)
            }
        }
        if let cadence = job.refreshCalculatedSeconds, state.calculatedAge.map({ $0 >= Double(cadence) }) ?? true {
            let formulas = try fieldCheck.calculatedFields(job).filter { field in !special.contains { $0.caseInsensitiveEquals(field.source) } }
            if !formulas.isEmpty {
                refreshed = try columnPass(
                    job, ColumnPass(fields: formulas, recordSyncedFields: nil, calculated: true, runId: runId), logger: logger)
                logger.notice("formula fields refreshed", metadata: ["sync.updated": .stringConvertible(refreshed)])
            }
        }
        return (backfilled, refreshed)
    }

    /// One column pass through the pipeline; the caller holds the job's lock.
    /// - Returns: rows whose values changed.
    func columnPass(_ job: JobDefinition, _ pass: ColumnPass, logger: Logger) throws -> Int {
        var ignored = JobOutcome(job: job.name, status: .success, seconds: 0)
        let summary = try sync(
            job, scope: .columns(pass), state: try store.state(ofJob: job.name), options: SyncOptions(mode: .full),
            outcome: &ignored, logger: logger)
        return summary.counts.updated
    }

    /// ``refreshColumns(_:mode:runId:logger:)`` for a run that has committed: a failure leaves the committed rows as
    /// they are (the next run retries the backfill or refresh) but fails the outcome so it is noticed.
    func refreshColumnsAfterCommit(_ job: JobDefinition, mode: SyncMode, outcome: inout JobOutcome, logger: Logger) {
        guard let summary = outcome.summary else { return }
        do {
            (outcome.backfilled, outcome.refreshed) = try refreshColumns(job, mode: mode, runId: summary.runId, logger: logger)
        } catch {
            outcome.fail(
                error, cancelled: cancellation.isCancelled,
                message: "the sync committed, but backfilling new fields or refreshing formulas failed: \(error)")
            logger.error("column refresh failed", metadata: ["error": "\(error)"])
        }
    }
}
