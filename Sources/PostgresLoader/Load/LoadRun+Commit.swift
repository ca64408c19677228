/// What a run asks of its commit, beyond the rows it staged.
public struct CommitRequest: Sendable {
    /// A full sync of an unfiltered object: target rows whose key was not staged are deleted (hard) or marked
    /// deleted (soft). Never true for a filtered or incremental query.
    public var fullSweep: Bool
    /// Salesforce's count and what the result pages delivered; the run commits only when they and the staged
    /// rows agree.
    public var reconciliation: Reconciliation
    /// Let the sweep exceed the mapping's `maxSweep` (`--allow-mass-delete`, for the one run that means it).
    public var allowMassDelete: Bool
    /// The Bulk API job read, for the run log.
    public var salesforceJobId: String?
    /// Salesforce API calls this run used, for the run log.
    public var apiCalls: Int
    /// The Bulk jobs whose results the run loaded, for the watermark rule (``SnapshotScope``); empty: the largest
    /// modstamp loaded, unbounded (callers that know no job, such as tests of the loader alone).
    public var snapshots: [SnapshotScope]
    /// How far the new watermark may lie past the database's clock (clock skew); at most the job's overlap, so a
    /// watermark the next run could not re-read back from is refused.
    public var maxFutureSeconds: Int
    /// The org the run read (its session's org Id), recorded with the job's state when the run commits; nil keeps
    /// the recorded one.
    public var orgId: String?
    /// Sweep only these keys, whatever ``fullSweep`` says (``KeyRange/verifiedExtras``: `sfpg verify --repair`),
    /// under the same `max_sweep` bound.
    public var sweepWithin: KeyRange?
    /// The run's deletes check (getDeleted or a key sweep, staged before the commit) or a full run's coverage; nil:
    /// none, the stored position stays.
    public var deletesCheck: DeletesCheck?

    public init(
        fullSweep: Bool, reconciliation: Reconciliation, allowMassDelete: Bool = false, salesforceJobId: String?,
        apiCalls: Int, snapshots: [SnapshotScope] = [], maxFutureSeconds: Int = LoadRun.maxClockSkewSeconds,
        orgId: String? = nil, sweepWithin: KeyRange? = nil, deletesCheck: DeletesCheck? = nil
    ) {
        self.sweepWithin = sweepWithin
        self.deletesCheck = deletesCheck
        self.orgId = orgId
        self.fullSweep = fullSweep
        self.reconciliation = reconciliation
        self.allowMassDelete = allowMassDelete
        self.salesforceJobId = salesforceJobId
        self.apiCalls = apiCalls
        self.snapshots = snapshots
        self.maxFutureSeconds = maxFutureSeconds
    }
}

extension LoadRun {
    /// Proves the run complete, merges staging into the target, applies deletes within the sweep bound, advances
    /// the watermark, writes the `success` run-log row and commits — all in the run's one transaction.
    ///
    /// - Throws: ``RunRefused`` when Salesforce's record count, the pages and the staged rows disagree, when the
    ///   sweep would remove more than `maxSweep`, or when a watermark value lies in the future; `PostgresError`
    ///   otherwise (SQLSTATE 55P03 when another session held the target table longer than the lock timeout). Nothing is committed then, and the caller should call `fail`.
    public func commit(_ request: CommitRequest) throws -> RunSummary {
        do {
            return try commitOrThrow(request)
        } catch {
            throw connection.explainingLockTimeout(error, table: mapping.table, jobName: jobName)
        }
    }

    private func commitOrThrow(_ request: CommitRequest) throws -> RunSummary {
        guard phase == .loading, openPage == nil else {
            throw PostgresError(.configuration, "job '\(jobName)': commit needs begin() first, no open page, and only once")
        }
        if staged != nil { try openResumableCommit() }
        try request.reconciliation.prove(stagedRows: stagedRows, jobName: jobName)
        if path == .direct { return try commitDirect(request) }
        let range = request.sweepWithin ?? shard?.range ?? .all
        let sweep = request.fullSweep || request.sweepWithin != nil ? try plan.sweepSQL(within: range) : nil
        try connection.execute("SELECT set_config('work_mem', $1, true)", [connection.mergeWorkMem])
        try connection.execute(plan.analyzeStagingSQL)
        try captureAudit(fullSweep: sweep != nil, within: range)
        let intoEmptyTable = targetWasEmpty
        func targetRows() throws -> Int {
            Int(try connection.execute(plan.targetRowEstimateSQL, [mapping.table.quoted])[0, "rows"] ?? "") ?? -1
        }
        var storedRows = intoEmptyTable ? 0 : try targetRows()
        // Not for a shard: the shards share the target, and ANALYZE's lock conflicts with itself until commit.
        if !intoEmptyTable, shard == nil, storedRows < 1 {
            try connection.execute(plan.analyzeTargetKeysSQL)
            storedRows = try targetRows()
        }
        let deduplicate = try connection.execute(plan.stagedDuplicateKeysSQL)[0, "duplicates"] == "t"
        if deduplicate, request.fullSweep { try refuseDuplicateKeys(request.reconciliation) }
        let merged = try locatingNotNullViolations {
            try connection.execute(plan.merge(
                intoEmptyTable: intoEmptyTable, deduplicate: deduplicate,
                lookUpStored: LoadPlan.looksUpStoredRows(staged: stagedRows, stored: storedRows)))
        }
        var counts = MergeCounts(staged: stagedRows)
        // Without duplicates every staged row is a distinct key.
        let distinct = Int(merged[0, "distinct_rows"] ?? "") ?? stagedRows
        counts.inserted = Int(merged[0, "inserted"] ?? "") ?? 0
        counts.updated = Int(merged[0, "updated"] ?? "") ?? 0
        counts.deleted = Int(merged[0, "deleted"] ?? "") ?? 0
        counts.unchanged = max(0, distinct - counts.inserted - counts.updated - counts.deleted)
        counts.maxModstamp = try watermark(request, in: plan.staging)
        try refuseFutureWatermark(counts.maxModstamp, allowance: request.maxFutureSeconds)
        // Into an empty table every target row came from staging, so none can be missing: skip the sweep, whose
        // anti-join (and the ANALYZE it needs) cost several seconds at 1M rows for nothing.
        if let sweep, !intoEmptyTable {
            counts.swept = try applySweep(sweep, within: range, allowMassDelete: request.allowMassDelete)
            counts.deleted += counts.swept
        }
        if let check = request.deletesCheck {
            let (removed, swept) = try applyDeletesCheck(check, allowMassDelete: request.allowMassDelete)
            counts.deleted += removed
            counts.swept += swept
        }
        return try finish(counts, request, intoEmptyTable: intoEmptyTable)
    }

    /// The commit of a first load that copied straight into the empty target: no merge and no sweep (nothing can
    /// be missing); records that arrived deleted are treated as the merge would treat them.
    private func commitDirect(_ request: CommitRequest) throws -> RunSummary {
        var counts = MergeCounts(staged: stagedRows)
        let arrivedDeleted = try plan.directDeletesSQL.map { Int(try connection.execute($0)[0, "deleted"] ?? "") ?? 0 } ?? 0
        // As the merge counts them: soft-deleted arrivals are deletes, hard-deleted ones were never inserted.
        counts.inserted = stagedRows - arrivedDeleted
        if mapping.deletes == .hard { counts.unchanged = arrivedDeleted } else { counts.deleted = arrivedDeleted }
        counts.maxModstamp = try watermark(request, in: mapping.table.quoted)
        try refuseFutureWatermark(counts.maxModstamp, allowance: request.maxFutureSeconds)
        return try finish(counts, request, intoEmptyTable: true)
    }

    /// The run-log row, the audit trail, the job's state, COMMIT.
    private func finish(_ counts: MergeCounts, _ request: CommitRequest, intoEmptyTable: Bool) throws -> RunSummary {
        if let shard { return try finishShard(shard, counts, request) }
        let logged = try store.appendRun(
            RunLogEntry(
                jobName: jobName, objectName: objectName, syncType: syncType, status: .success, startedAt: startedAt,
                counts: counts, reconciliation: request.reconciliation, watermarkBefore: previousWatermark,
                salesforceJobId: request.salesforceJobId, apiCalls: request.apiCalls))
        try storeAudit(runId: logged.id)
        try store.advance(
            jobName: jobName, objectName: objectName, table: mapping.table, watermark: logged.watermarkAfter,
            fullSync: syncType == .full, runId: logged.id, orgId: request.orgId,
            deletesCoveredUntil: request.deletesCheck?.coveredUntil)
        try dropStagedPages()
        try connection.execute("COMMIT")
        phase = .finished
        return RunSummary(
            runId: logged.id, counts: counts, watermarkBefore: previousWatermark,
            watermarkAfter: logged.watermarkAfter, intoEmptyTable: intoEmptyTable, path: path)
    }

    /// A shard's commit: its shard row, and (the last shard only) the logical run's log row and the job's state.
    private func finishShard(_ shard: ShardSlot, _ counts: MergeCounts, _ request: CommitRequest) throws -> RunSummary {
        try storeAudit(runId: shard.logId)
        let done = try store.commitShard(
            shard, counts: counts, reconciliation: request.reconciliation, apiCalls: request.apiCalls,
            jobName: jobName, objectName: objectName, table: mapping.table, orgId: request.orgId)
        try dropStagedPages()
        try connection.execute("COMMIT")
        phase = .finished
        return RunSummary(
            runId: shard.logId, counts: counts, watermarkBefore: previousWatermark,
            watermarkAfter: done.completed ? done.watermarkAfter : previousWatermark, path: path,
            completedShardRun: done.completed)
    }

    /// Runs the merge under a savepoint so that, when a NOT NULL column gets a NULL, the error can name the
    /// records: the server's `Failing row contains (…)` would have (with every value of the row, which is why it is
    /// not shown; see `RowContentRedaction`), and "page, line, field" does not exist at merge time.
    func locatingNotNullViolations(_ merge: () throws -> PostgresResult) throws -> PostgresResult {
        try connection.execute("SAVEPOINT sfpg_merge")
        do {
            let result = try merge()
            try connection.execute("RELEASE SAVEPOINT sfpg_merge")
            return result
        } catch var error as PostgresError where error.sqlState == "23502" && connection.isConnected {
            guard let column = error.column, plan.field(forColumn: column) != nil,
                (try? connection.execute("ROLLBACK TO SAVEPOINT sfpg_merge")) != nil
            else { throw error }
            let key = SQLIdentifier.quote(mapping.key.column)
            let keys = (try? connection.execute(
                "SELECT DISTINCT \(key)::text FROM \(plan.staging) WHERE \(SQLIdentifier.quote(column)) IS NULL "
                    + "ORDER BY 1 LIMIT 4"))?.rows.compactMap { $0.first ?? nil } ?? []
            if !keys.isEmpty {
                let shown = keys.prefix(3).joined(separator: ", ") + (keys.count > 3 ? ", …" : "")
                error.message = "field \(plan.field(forColumn: column) ?? column) (column \(column)) is empty in "
                    + "\(mapping.key.source) \(shown), but the column is NOT NULL: \(error.message)"
            }
            throw error
        }
    }

    /// The watermark this run may store (``LoadPlan/watermarkSQL(scopes:in:)``), from the rows in `relation`.
    func watermark(_ request: CommitRequest, in relation: String) throws -> String? {
        // A repair read some windows only: changes outside them may still be unread, so it keeps the watermark.
        guard syncType != .repair else { return nil }
        let (sql, parameters) = plan.watermarkSQL(scopes: request.snapshots, in: relation)
        return try connection.execute(sql, parameters)[0, "watermark"]
    }

    /// A sweeping run whose staged rows hold a key twice cannot prove it is complete: a page delivered twice and a
    /// lost page of the same size give the right row count, and the sweep would delete the lost page's records.
    func refuseDuplicateKeys(_ evidence: Reconciliation) throws {
        let distinct = try connection.execute("SELECT count(DISTINCT \(plan.key)) AS n FROM \(plan.staging)")[0, "n"] ?? "?"
        throw RunRefused(
            .incomplete,
            "job '\(jobName)': the run is incomplete: \(stagedRows) rows were staged but only \(distinct) distinct "
                + "\(mapping.key.source) values (Salesforce reported \(evidence.expected.map(String.init) ?? "no count")); "
                + "a result page arrived twice or overlapping ranges were read, so records may be missing and the sweep "
                + "would delete them. Nothing was committed; run again")
    }

    /// A watermark past the database's clock would make every later incremental run skip the changes in between.
    func refuseFutureWatermark(_ watermark: String?, allowance: Int) throws {
        let allowance = String(max(0, allowance))
        // The new watermark decides; only then is staging scanned for the records to name.
        guard let watermark,
            try connection.execute(
                "SELECT $1::timestamptz > now() + make_interval(secs => $2::float8) AS future",
                [watermark, allowance])[0, "future"] == "t"
        else { return }
        let future = try connection.execute(
            plan.futureModstampsSQL(in: path == .direct ? mapping.table.quoted : plan.staging), [allowance])
        let samples = (0..<future.rows.count).compactMap { row in
            future[row, "key"].map { "\($0) (\(future[row, "modstamp"] ?? "?"))" }
        }
        throw RunRefused(
            .futureWatermark,
            "job '\(jobName)': the new watermark \(samples.isEmpty ? watermark : samples.joined(separator: ", ")) of "
                + "\(mapping.modstamp.source) lies more than \(allowance) seconds (the job's overlap, at most "
                + "\(Self.maxClockSkewSeconds / 60) minutes) after the database's clock; storing it would stop incremental "
                + "runs until then. Check the database server's clock and the watermark field; nothing was committed")
    }

    /// Runs the sweep and refuses it when it removed more than the mapping's bound allows of the live rows.
    /// - Returns: the rows swept.
    /// A shard's bound holds over its whole logical run: the share of the table's live rows, less what the run's
    /// other shards swept. A bound per shard would be a share of a few rows (10% of a 5-row range is 0), refusing
    /// every real delete in a small range.
    func applySweep(_ sweep: String, within range: KeyRange, allowMassDelete: Bool, what: String = "full sync") throws -> Int {
        let live = Int(try connection.execute(plan.liveRowsSQL(within: .all))[0, "live"] ?? "") ?? 0
        // The merge may just have filled the table. With an empty table's statistics the planner picks a
        // nested-loop anti-join against staging for the sweep: quadratic, over ten minutes at 1M rows.
        if shard == nil {
            // The anti-join needs only the key's statistics; the other columns' cost a full sample each.
            try connection.execute(plan.analyzeTargetKeysSQL)
        } else {
            // A shard must not ANALYZE the shared target: ANALYZE's lock conflicts with itself and is held to the end
            // of the transaction, so the shards' sweeps and commits would queue behind each other (and a long one
            // would make the next fail on lock_timeout). Ruling out the nested loop gives the same safe plan.
            try connection.execute("SELECT set_config('enable_nestloop', 'off', true)")
        }
        let swept = try connection.execute(sweep, range.parameters).affectedRows
        let allowed = mapping.maxSweep.allowance(liveRows: live) - (try shard.map { try store.sweptInShardRun($0) } ?? 0)
        guard swept <= allowed || allowMassDelete else {
            throw RunRefused(
                .sweepLimit,
                "job '\(jobName)': the \(what) would \(mapping.deletes == .hard ? "delete" : "mark deleted") \(swept) of "
                    + "\(live) live rows of \(mapping.table), more than max_sweep (\(mapping.maxSweep), \(allowed) rows) "
                    + "allows; nothing was committed. Records that became invisible to the integration user (a sharing "
                    + "rule, profile or permission change) look exactly like deleted ones: check its access first. If "
                    + "the records really were deleted, run once with --allow-mass-delete")
        }
        return swept
    }

    /// Rolls the run back (target, staging and watermark untouched), ending a page's open COPY first, then records a
    /// run-log row with `status`, the error, `reason` (else a ``RunRefused``'s) and whatever evidence the run had, in
    /// its own transaction. Never throws:
    /// if the connection is gone, the log row is lost but nothing was committed either.
    public func fail(
        _ error: any Error, status: RunStatus = .failed, reconciliation: Reconciliation = Reconciliation(),
        reason: FailureReason? = nil, salesforceJobId: String?, apiCalls: Int
    ) {
        guard phase != .finished else { return }
        if let openPage { _ = abort(openPage, because: error) }
        try? store.cleanUp()
        phase = .finished
        if let shard {
            store.failShard(
                shard, error: error, status: status, reason: reason ?? (error as? RunRefused)?.reason, apiCalls: apiCalls)
            return
        }
        guard connection.isConnected else { return }
        let counts = MergeCounts(staged: stagedRows)
        _ = try? store.appendRun(
            RunLogEntry(
                jobName: jobName, objectName: objectName, syncType: syncType, status: status, startedAt: startedAt,
                counts: counts, reconciliation: reconciliation, errorMessage: String(describing: error),
                failureReason: reason ?? (error as? RunRefused)?.reason, watermarkBefore: previousWatermark,
                salesforceJobId: salesforceJobId, apiCalls: apiCalls))
    }
}
