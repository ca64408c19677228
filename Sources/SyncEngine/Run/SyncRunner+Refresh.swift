import Logging
import PostgresLoader
import SalesforceClient

/// After a committed run: backfills fields the job gained since its table was last loaded, and re-reads formula
/// fields when their cadence is due. Both are narrow Bulk queries (key, modstamp, the fields) that update existing
/// rows only, never a full reload.
extension SyncRunner {
    /// Runs the backfill and the formula refresh a committed run of `job` calls for.
    /// - Returns: rows updated by each step, for the log.
    @discardableResult
    func refreshColumns(_ job: JobDefinition, mode: SyncMode, runId: Int64?, logger: Logger) throws -> (backfilled: Int, refreshed: Int) {
        let state = try store.state(ofJob: job.name)
        let all = job.fields.map(\.source)
        var backfilled = 0
        var refreshed = 0
        if mode == .full || state.syncedFields == nil {
            // A full read loaded every field, formulas included. Without a record (first run, or a table from
            // before sfpg tracked fields) the current fields are taken as loaded.
            try store.recordColumns(jobName: job.name, syncedFields: all, calculatedRefreshed: mode == .full)
            if mode == .full { return (0, 0) }
        } else if let synced = state.syncedFields {
            let special = [job.key, job.watermark]
            let added = job.fields.filter { field in
                !synced.contains { $0.caseInsensitiveEquals(field.source) } && !special.contains { $0.caseInsensitiveEquals(field.source) }
            }
            if !added.isEmpty {
                logger.notice("backfilling fields new to the job", metadata: ["sync.fields": "\(added.map(\.source).joined(separator: ","))"])
                backfilled = try refresh(job, fields: added, recordSyncedFields: all, calculated: false, runId: runId, logger: logger)
            } else if Set(synced.map { $0.lowercased() }) != Set(all.map { $0.lowercased() }) {
                // Fields left the job: forget them, so mapping one again later backfills it.
                try store.recordColumns(jobName: job.name, syncedFields: all, calculatedRefreshed: false)
            }
        }
        if let cadence = job.refreshCalculatedSeconds, state.calculatedAge.map({ $0 >= Double(cadence) }) ?? true {
            let special = [job.key, job.watermark]
            let formulas = try fieldCheck.calculatedFields(job).filter { field in !special.contains { $0.caseInsensitiveEquals(field.source) } }
            if !formulas.isEmpty {
                refreshed = try refresh(job, fields: formulas, recordSyncedFields: nil, calculated: true, runId: runId, logger: logger)
                logger.notice("formula fields refreshed", metadata: ["sync.updated": "\(refreshed)"])
            }
        }
        return (backfilled, refreshed)
    }

    /// One narrow Bulk query of key, modstamp and `fields`, loaded through a ``ColumnRefresh``.
    func refresh(
        _ job: JobDefinition, fields: [JobDefinition.FieldMapping], recordSyncedFields: [String]?, calculated: Bool,
        runId: Int64?, logger: Logger
    ) throws -> Int {
        let columns = fields.map { ColumnMapping(source: $0.source, column: $0.column) }
        return try store.withJobLock(job.name, table: job.table, policy: .failFast) { _ in
            let refresh = try ColumnRefresh(store: store, jobName: job.name, mapping: job.loadMapping, columns: columns)
            defer { refresh.rollback() }
            var soql = "SELECT \(refresh.sourceFields.joined(separator: ", ")) FROM \(job.object)"
            if let whereClause = job.whereClause { soql += " WHERE (\(whereClause))" }
            let bulkJob = try client.createQueryJob(soql, operation: job.deletes == .ignore ? .query : .queryAll)
            do {
                let completed = try client.waitForCompletion(bulkJob.id)
                try refresh.begin()
                let download = try client.downloadResults(
                    bulkJob.id, maxRecords: job.pageSize, expectedRecords: completed.numberRecordsProcessed,
                    into: PageLoader(run: refresh, logger: logger))
                // The same proof as a run's: a refresh that lost a page would leave those rows' values stale.
                guard let expected = completed.numberRecordsProcessed, expected == download.records,
                    expected == refresh.stagedRows
                else {
                    throw RunRefused(
                        .incomplete,
                        "job '\(job.name)': the column refresh is incomplete: Salesforce reported "
                            + "\(completed.numberRecordsProcessed.map(String.init) ?? "no count"), the pages delivered "
                            + "\(download.records), \(refresh.stagedRows) rows were staged; nothing was updated")
                }
                let updated = try refresh.commit(recordSyncedFields: recordSyncedFields, calculatedRefreshed: calculated, runId: runId)
                try? client.deleteJob(bulkJob.id)
                return updated
            } catch {
                let cleanup = client.withoutCancellation()
                try? cleanup.abortJob(bulkJob.id)
                try? cleanup.deleteJob(bulkJob.id)
                throw error
            }
        }
    }
}

extension SyncRunner {
    /// ``refreshColumns(_:mode:runId:logger:)`` for a run that has committed: a failure leaves the committed rows as
    /// they are (the next run retries the backfill or refresh) but fails the outcome so it is noticed; a run of the
    /// same job that holds the lock by now is only worth a warning.
    func refreshColumnsAfterCommit(_ job: JobDefinition, mode: SyncMode, outcome: inout JobOutcome, logger: Logger) {
        do {
            try refreshColumns(job, mode: mode, runId: outcome.summary?.runId, logger: logger)
        } catch let error as PostgresError where error.code == .lockHeld {
            logger.warning("column refresh skipped: another run of the job started", metadata: ["error": "\(error)"])
        } catch {
            outcome.fail(
                error, cancelled: cancellation.isCancelled,
                message: "the sync committed, but backfilling new fields or refreshing formulas failed: \(error)")
            logger.error("column refresh failed", metadata: ["error": "\(error)"])
        }
    }
}
