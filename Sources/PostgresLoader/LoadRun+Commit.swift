extension LoadRun {
    /// Merges staging into the target, applies deletes, advances the watermark, writes the `success` run-log
    /// row and commits — all in the run's one transaction — then releases the job's lock.
    ///
    /// - Parameters:
    ///   - fullSweep: a full sync of an unfiltered object: target rows whose key was not staged are deleted
    ///     (hard) or marked deleted (soft). Never pass true for a filtered or incremental query.
    ///   - salesforceJobId: the Bulk API job read, for the run log.
    ///   - apiCalls: Salesforce API calls this run used, for the run log.
    /// - Throws: `PostgresError`; nothing is committed then, and the caller should call `fail`.
    public func commit(fullSweep: Bool, salesforceJobId: String?, apiCalls: Int) throws -> RunSummary {
        guard state == .loading else {
            throw PostgresError(.configuration, "job '\(jobName)': commit needs begin() first, and only once")
        }
        let sweep = fullSweep ? try plan.sweepSQL() : nil
        // Temp tables are never auto-analyzed; without statistics the merge's plan can be poor on big loads.
        try connection.execute("ANALYZE \(LoadPlan.staging)")
        try captureAudit(fullSweep: sweep != nil)
        // The job's advisory lock is held, so no other sfpg run can fill the table between this check and the merge.
        let intoEmptyTable = try connection.execute(plan.targetIsEmptySQL)[0, "empty"] == "t"
        let merged = try connection.execute(intoEmptyTable ? plan.firstLoadMergeSQL : plan.mergeSQL)
        var counts = MergeCounts(staged: stagedRows)
        let distinct = Int(merged[0, "distinct_rows"] ?? "") ?? 0
        counts.inserted = Int(merged[0, "inserted"] ?? "") ?? 0
        counts.updated = Int(merged[0, "updated"] ?? "") ?? 0
        counts.deleted = Int(merged[0, "deleted"] ?? "") ?? 0
        counts.unchanged = max(0, distinct - counts.inserted - counts.updated - counts.deleted)
        counts.maxModstamp = merged[0, "max_modstamp"]
        // Into an empty table every target row came from staging, so none can be missing: skip the sweep, whose
        // anti-join (and the ANALYZE it needs) cost several seconds at 1M rows for nothing.
        if let sweep, !intoEmptyTable {
            // The merge may just have filled the table. With an empty table's statistics the planner picks a
            // nested-loop anti-join against staging for the sweep: quadratic, over ten minutes at 1M rows.
            try connection.execute("ANALYZE \(mapping.table.quoted)")
            counts.deleted += try connection.execute(sweep).affectedRows
        }
        let logged = try connection.execute(
            """
            INSERT INTO sfpg.sync_logs (sync_type, records_processed, records_inserted, records_updated, errors,
                started_at, completed_at, status, job_name, object_name, records_deleted, records_unchanged,
                watermark_before, watermark_after, salesforce_job_id, api_calls_used)
            VALUES ($1, $2, $3, $4, 0, $5::timestamptz, clock_timestamp(), 'success', $6, $7, $8, $9,
                $10::timestamptz, greatest($10::timestamptz, $11::timestamptz), $12, $13)
            RETURNING id, to_char(watermark_after AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS watermark_after
            """,
            [
                syncType.rawValue, String(counts.staged), String(counts.inserted), String(counts.updated), startedAt,
                jobName, objectName, String(counts.deleted), String(counts.unchanged), previousWatermark,
                counts.maxModstamp, salesforceJobId, String(apiCalls),
            ])
        guard let runIdText = logged[0, "id"], let runId = Int64(runIdText) else {
            throw PostgresError(.query, "job '\(jobName)': inserting the run-log row returned no id")
        }
        try storeAudit(runId: runId)
        try connection.execute(
            """
            INSERT INTO sfpg.sync_state AS s (job_name, object_name, target_table, watermark, bulk_job_id,
                bulk_job_created_at, last_full_sync_at, last_run_id, updated_at)
            VALUES ($1, $2, $3, $4::timestamptz, NULL, NULL, CASE WHEN $5 THEN now() END, $6, now())
            ON CONFLICT (job_name) DO UPDATE SET object_name = EXCLUDED.object_name,
                target_table = EXCLUDED.target_table, watermark = greatest(s.watermark, EXCLUDED.watermark),
                bulk_job_id = NULL, bulk_job_created_at = NULL, bulk_job_query = NULL,
                last_full_sync_at = coalesce(EXCLUDED.last_full_sync_at, s.last_full_sync_at),
                last_run_id = EXCLUDED.last_run_id, updated_at = now()
            """,
            [
                jobName, objectName, mapping.table.quoted, logged[0, "watermark_after"],
                syncType == .full ? "true" : "false", runIdText,
            ])
        try connection.execute("COMMIT")
        state = .finished
        inFlightBulkJobId = nil
        releaseLock()
        return RunSummary(
            runId: runId, counts: counts, watermarkBefore: previousWatermark,
            watermarkAfter: logged[0, "watermark_after"], intoEmptyTable: intoEmptyTable)
    }

    /// Rolls the run back (target, staging and watermark untouched), then records a run-log row with `status`
    /// and the error's description in its own transaction, and releases the job's lock. Never throws: if the
    /// connection is gone, the log row is lost but nothing was committed either.
    /// - Parameters:
    ///   - status: `failed` or `cancelled`.
    public func fail(_ error: any Error, status: String = "failed", salesforceJobId: String?, apiCalls: Int) {
        guard state != .finished else { return }
        if connection.isInTransaction { _ = try? connection.execute("ROLLBACK") }
        state = .finished
        if connection.isConnected {
            _ = try? connection.execute(
                """
                INSERT INTO sfpg.sync_logs (sync_type, records_processed, records_inserted, records_updated, errors,
                    started_at, completed_at, status, error_message, job_name, object_name, records_deleted,
                    records_unchanged, watermark_before, watermark_after, salesforce_job_id, api_calls_used)
                VALUES ($1, 0, 0, 0, 1, $2::timestamptz, clock_timestamp(), $3, $4, $5, $6, 0, 0,
                    $7::timestamptz, $7::timestamptz, $8, $9)
                """,
                [
                    syncType.rawValue, startedAt, status, String(describing: error), jobName, objectName,
                    previousWatermark, salesforceJobId, String(apiCalls),
                ])
        }
        releaseLock()
    }
}
