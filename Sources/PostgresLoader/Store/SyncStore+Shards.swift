import Foundation

/// Shard mode: N processes each load one key range of one logical full run, coordinated through `sfpg.shard_runs`
/// and `sfpg.shards` (migration 008) — PostgreSQL is the only coordinator.
///
/// Locks: a shard holds its job's and its table's advisory locks *shared* (the shards of a run load disjoint keys
/// side by side), and an exclusive lock on its (job, shard index). A normal run takes the job's lock exclusively, so
/// it and a shard of the same job exclude each other, and two processes for the same shard index exclude each other.
/// A process killed with SIGKILL loses its session, and with it every lock: a rerun takes its shard over.
extension SyncStore {
    static let shardLockKey = "hashtext('sfpg.shard'), hashtext($1)"
    /// Serializes the find-or-create of a logical run, so shards arriving together agree on one run and its ranges.
    static let shardRunLockKey = "hashtext('sfpg.shard_run'), hashtext($1)"

    /// Runs `body` holding the shared job and table locks and the exclusive lock on shard `index` of the job (see
    /// the extension's summary); releases them however `body` ends.
    /// - Throws: `PostgresError` `.lockHeld` when a normal run of the job (or another process for this shard index)
    ///   holds a conflicting lock and `policy` is `.failFast`; whatever `body` throws.
    public func withShardLock<T>(
        _ jobName: String, table: TableName, index: Int, policy: LockPolicy, _ body: (JobState) throws -> T
    ) throws -> T {
        try cleanUp()
        try lock(Self.jobLockKey, jobName, shared: true, policy: policy, holder: "job '\(jobName)'")
        defer { unlock(Self.jobLockKey, jobName, shared: true) }
        try lock(
            Self.tableLockKey, table.quoted, shared: true, policy: policy,
            holder: "table \(table) (written by job '\(jobName)')")
        defer { unlock(Self.tableLockKey, table.quoted, shared: true) }
        let shardKey = "\(jobName)#\(index)"
        try lock(Self.shardLockKey, shardKey, shared: false, policy: policy, holder: "shard \(index) of job '\(jobName)'")
        defer { unlock(Self.shardLockKey, shardKey, shared: false) }
        let state = try self.state(ofJob: jobName)
        defer { try? cleanUp() }
        return try body(state)
    }

    /// The logical run this shard belongs to, joined or begun, with this shard claimed (`running`, one more
    /// attempt) unless it already succeeded. Call inside ``withShardLock(_:table:index:policy:_:)``.
    ///
    /// With `runName`, the run of that name (begun if none exists). Without, the newest unfinished run of the job
    /// begun within ``unnamedJoinWindowSeconds`` with the same shard count and fingerprint; else a new run. A job has
    /// at most one unfinished logical run: beginning one abandons the others, whose shards can then no longer commit.
    /// Whoever begins a run calls `boundaries` (once, under a lock the other shards wait on) and records them with a
    /// `running` row in `sfpg.sync_logs` for the logical run and N `pending` shard rows; every other shard and every
    /// rerun reads the recorded boundaries.
    /// - Parameter fingerprint: what makes two shards parts of one snapshot (query, table, key, shard count).
    /// - Throws: `PostgresError` `.configuration` when the named run is complete, abandoned, has another shard
    ///   count or another fingerprint; what `boundaries` throws (nothing is recorded then).
    public func joinShardRun(
        jobName: String, objectName: String, runName: String?, index: Int, count: Int, fingerprint: String,
        watermarkBefore: String?, boundaries: () throws -> [String]
    ) throws -> ShardSlot {
        try lock(Self.shardRunLockKey, jobName, shared: false, policy: .wait, holder: "")
        defer { unlock(Self.shardRunLockKey, jobName, shared: false) }
        var found = try findShardRun(jobName: jobName, runName: runName, count: count, fingerprint: fingerprint)
        if found.rows.isEmpty {
            let agreed = try boundaries()
            found = try connection.withTransaction {
                // One unfinished logical run per job: an older snapshot's sweep must not delete what this one loads.
                try connection.execute(
                    """
                    UPDATE sfpg.shard_runs SET abandoned_at = now()
                    WHERE job_name = $1 AND finished_at IS NULL AND abandoned_at IS NULL
                    """, [jobName])
                let log = try appendRun(
                    RunLogEntry(
                        jobName: jobName, objectName: objectName, syncType: .full, status: .running, startedAt: try now(),
                        watermarkBefore: watermarkBefore, salesforceJobId: nil, apiCalls: 0))
                let created = try connection.execute(
                    """
                    INSERT INTO sfpg.shard_runs (job_name, run_name, shard_count, boundaries, log_id, fingerprint)
                    VALUES ($1, coalesce($2, 'auto-' || to_char(clock_timestamp() AT TIME ZONE 'UTC',
                        'YYYYMMDD"T"HH24MISS.US"Z"')), $3::int, $4::text[], $5::bigint, $6)
                    RETURNING \(Self.shardRunColumns.replacingOccurrences(of: "r.", with: ""))
                    """, [jobName, runName, String(count), Self.arrayLiteral(agreed), String(log.id), fingerprint])
                try connection.execute(
                    "INSERT INTO sfpg.shards (run_id, shard_index) SELECT $1::bigint, i FROM generate_series(0, $2::int - 1) i",
                    [created[0, "id"], String(count)])
                return created
            }
        }
        guard let runText = found[0, "id"], let runId = Int64(runText), let logText = found[0, "log_id"],
            let logId = Int64(logText), let name = found[0, "run_name"]
        else { throw PostgresError(.query, "job '\(jobName)': reading the shard run returned no row") }
        let agreed = Self.jsonStrings(found[0, "boundaries"] ?? "[]")
        // Claim the shard; a row left `running` by a killed process is taken over (its lock died with it).
        let claimed = try connection.execute(
            """
            UPDATE sfpg.shards s SET status = CASE WHEN s.status = 'succeeded' THEN s.status ELSE 'running' END,
                attempts = s.attempts + CASE WHEN s.status = 'succeeded' THEN 0 ELSE 1 END,
                started_at = CASE WHEN s.status = 'succeeded' THEN s.started_at ELSE now() END,
                finished_at = CASE WHEN s.status = 'succeeded' THEN s.finished_at END,
                error_message = CASE WHEN s.status = 'succeeded' THEN s.error_message END
            FROM (SELECT status, bulk_job_id FROM sfpg.shards WHERE run_id = $1 AND shard_index = $2 FOR UPDATE) old
            WHERE s.run_id = $1 AND s.shard_index = $2
            RETURNING old.status AS previous, old.bulk_job_id, s.attempts
            """, [String(runId), String(index)])
        guard let previous = claimed[0, "previous"] else {
            throw PostgresError(.query, "job '\(jobName)': shard \(index) has no row in shard run '\(name)'")
        }
        return ShardSlot(
            runId: runId, runName: name, logId: logId, index: index, count: count, boundaries: agreed,
            alreadySucceeded: previous == "succeeded",
            leftoverBulkJobId: previous == "succeeded" ? nil : claimed[0, "bulk_job_id"],
            attempt: Int(claimed[0, "attempts"] ?? "") ?? 1)
    }

    /// How long after a logical run began an unnamed shard may still join it. Shards of one schedule start
    /// together; a shard arriving later belongs to the next run, and must not complete (and so vouch for) the old
    /// one with tonight's snapshot. Name the run (`--shard-run`) for shards that start further apart.
    public static let unnamedJoinWindowSeconds = 3600

    static let shardRunColumns = "r.id, r.run_name, r.shard_count, array_to_json(r.boundaries)::text AS boundaries, "
        + "r.log_id, r.fingerprint, r.finished_at IS NOT NULL AS finished, r.abandoned_at IS NOT NULL AS abandoned"

    /// The run a shard joins (see ``joinShardRun``); no row when it begins a new one.
    func findShardRun(jobName: String, runName: String?, count: Int, fingerprint: String) throws -> PostgresResult {
        guard let runName else {
            return try connection.execute(
                """
                SELECT \(Self.shardRunColumns) FROM sfpg.shard_runs r
                WHERE r.job_name = $1 AND r.shard_count = $2 AND r.finished_at IS NULL AND r.abandoned_at IS NULL
                    AND r.fingerprint = $3 AND r.started_at > now() - make_interval(secs => $4::float8)
                ORDER BY r.id DESC LIMIT 1
                """, [jobName, String(count), fingerprint, String(Self.unnamedJoinWindowSeconds)])
        }
        let found = try connection.execute(
            "SELECT \(Self.shardRunColumns) FROM sfpg.shard_runs r WHERE r.job_name = $1 AND r.run_name = $2",
            [jobName, runName])
        guard !found.rows.isEmpty else { return found }
        let run = "shard run '\(runName)' of job '\(jobName)'"
        if found[0, "finished"] == "t" {
            throw PostgresError(.configuration, "\(run) is already complete; pick a new run name (--shard-run)")
        }
        if found[0, "abandoned"] == "t" {
            throw PostgresError(
                .configuration,
                "\(run) was abandoned when a newer sharded run of the job began; its shards can no longer commit: "
                    + "rerun the newer run's shards, or begin a new run with a new --shard-run name")
        }
        if let existing = found[0, "shard_count"], Int(existing) != count {
            throw PostgresError(
                .configuration,
                "\(run) has \(existing) shards, not \(count): use --shard I/\(existing), or another --shard-run name "
                    + "for a run with \(count) shards")
        }
        if let theirs = found[0, "fingerprint"], theirs != fingerprint {
            throw PostgresError(
                .configuration,
                "\(run) began with another definition of the job (its query, table, key or shard count changed "
                    + "since); one run must read one definition: finish it with the old job file, or begin a new run "
                    + "with a new --shard-run name")
        }
        return found
    }

    /// Records the Bulk job shard `slot` reads, committed on its own at once, so a rerun after a kill can abort it.
    public func recordShardBulkJob(_ id: String?, slot: ShardSlot) throws {
        try connection.execute(
            "UPDATE sfpg.shards SET bulk_job_id = $3 WHERE run_id = $1 AND shard_index = $2",
            [String(slot.runId), String(slot.index), id])
    }

    /// In the shard's transaction, after its merge and sweep: marks the shard succeeded with its counts and, if it
    /// is the last shard of the run to succeed, completes the logical run — the run-log row becomes `success` with
    /// the summed counts and every shard's Bulk job, and the job's watermark advances.
    ///
    /// The run's row is locked first, so two shards committing at once are ordered: the second one's count of
    /// unfinished shards (a new statement, so a new snapshot under READ COMMITTED) sees the first one's commit.
    ///
    /// Watermark: the MINIMUM over the shards of each shard's mark (the watermark rule, ``SnapshotScope``: its Bulk
    /// job's creation, or the largest modstamp it loaded if that is earlier), never the maximum. Every
    /// shard read its own Bulk snapshot, possibly hours apart (a rerun shard); the largest value of a late
    /// snapshot says nothing about changes made meanwhile in the other shards' ranges, which their earlier
    /// snapshots missed. The next incremental run reads from the minimum (minus the overlap) and so sees them.
    /// - Returns: the run-log row's id, and whether this shard completed the run (with the watermark after).
    func commitShard(
        _ slot: ShardSlot, counts: MergeCounts, reconciliation: Reconciliation, apiCalls: Int, jobName: String,
        objectName: String, table: TableName, orgId: String? = nil
    ) throws -> (completed: Bool, watermarkAfter: String?) {
        let run = String(slot.runId)
        let abandoned = try connection.execute(
            "SELECT abandoned_at IS NOT NULL AS abandoned FROM sfpg.shard_runs WHERE id = $1 FOR UPDATE", [run])
        if abandoned[0, "abandoned"] == "t" {
            throw PostgresError(
                .configuration,
                "job '\(jobName)': shard run '\(slot.runName)' was abandoned when a newer sharded run began; this "
                    + "shard's snapshot is older than that run's, so nothing of it was committed")
        }
        try connection.execute(
            """
            UPDATE sfpg.shards SET status = 'succeeded', finished_at = now(), error_message = NULL,
                records_expected = $3::bigint, records_downloaded = $4::bigint, result_pages = $5::int,
                records_processed = $6::bigint, records_inserted = $7::bigint, records_updated = $8::bigint,
                records_deleted = $9::bigint, records_unchanged = $10::bigint, max_modstamp = $11::timestamptz,
                api_calls_used = $12::int, records_swept = $13::bigint
            WHERE run_id = $1 AND shard_index = $2
            """,
            [
                run, String(slot.index), reconciliation.expected.map(String.init),
                reconciliation.downloaded.map(String.init), reconciliation.pages.map(String.init),
                String(counts.staged), String(counts.inserted), String(counts.updated), String(counts.deleted),
                String(counts.unchanged), counts.maxModstamp, String(apiCalls), String(counts.swept),
            ])
        let left = Int(
            try connection.execute(
                "SELECT count(*) AS left FROM sfpg.shards WHERE run_id = $1 AND status <> 'succeeded'", [run])[0, "left"]
                ?? "") ?? 1
        let logged = try summarizeShardRun(slot, completed: left == 0)
        guard left == 0 else { return (false, nil) }
        let watermark = logged[0, "watermark_after"]
        try connection.execute("UPDATE sfpg.shard_runs SET finished_at = now() WHERE id = $1", [run])
        try advance(
            jobName: jobName, objectName: objectName, table: table, watermark: watermark, fullSync: true,
            runId: slot.logId, orgId: orgId)
        return (true, watermark)
    }

    /// The logical run's log row gets the sums of its succeeded shards; the last shard's commit (`completed`) also
    /// makes it `success` with the run's watermark. Result column: watermark_after.
    private func summarizeShardRun(_ slot: ShardSlot, completed: Bool) throws -> PostgresResult {
        // The run-log row carries the sums so far either way: `sfpg status` shows a run in progress as it fills.
        return try connection.execute(
            """
            WITH s AS (
                SELECT sum(records_processed) AS processed, sum(records_inserted) AS inserted,
                    sum(records_updated) AS updated, sum(records_deleted) AS deleted,
                    sum(records_unchanged) AS unchanged, sum(records_expected) AS expected,
                    sum(records_downloaded) AS downloaded, sum(result_pages) AS pages, sum(api_calls_used) AS calls,
                    -- A shard that read a Bulk job but has no mark holds the watermark where it was (min() alone
                    -- would skip it); a shard that owned no key and read no job bounds nothing.
                    CASE WHEN bool_or(max_modstamp IS NULL AND bulk_job_id IS NOT NULL) THEN NULL
                        ELSE min(max_modstamp) END AS watermark,
                    string_agg(bulk_job_id, ',' ORDER BY shard_index) AS jobs
                FROM sfpg.shards WHERE run_id = $1 AND status = 'succeeded'
            )
            UPDATE sfpg.sync_logs l SET records_processed = s.processed, records_inserted = s.inserted,
                records_updated = s.updated, records_deleted = s.deleted, records_unchanged = s.unchanged,
                records_expected = s.expected, records_downloaded = s.downloaded, result_pages = s.pages,
                api_calls_used = s.calls, salesforce_job_id = s.jobs,
                status = CASE WHEN $3 THEN 'success' ELSE l.status END,
                errors = CASE WHEN $3 THEN 0 ELSE l.errors END,
                error_message = CASE WHEN $3 THEN NULL ELSE l.error_message END,
                failure_reason = CASE WHEN $3 THEN NULL ELSE l.failure_reason END,
                completed_at = CASE WHEN $3 THEN clock_timestamp() ELSE l.completed_at END,
                watermark_after = CASE WHEN $3 THEN greatest(l.watermark_before, s.watermark) END
            FROM s WHERE l.id = $2
            RETURNING to_char(l.watermark_after AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS watermark_after
            """, [String(slot.runId), String(slot.logId), completed ? "true" : "false"])
    }

    /// Rows the run's other committed shards swept: the sweep bound holds over the whole logical run.
    func sweptInShardRun(_ slot: ShardSlot) throws -> Int {
        Int(try connection.execute(
            """
            SELECT coalesce(sum(records_swept), 0) AS swept FROM sfpg.shards
            WHERE run_id = $1 AND shard_index <> $2 AND status = 'succeeded'
            """, [String(slot.runId), String(slot.index)])[0, "swept"] ?? "") ?? 0
    }

    /// After the shard's transaction rolled back: marks the shard failed with `error` (its description, which holds
    /// no secrets or record contents) and the logical run's log row failed, so the run shows as incomplete until a
    /// rerun of the shard completes it. Best effort: never throws.
    public func failShard(_ slot: ShardSlot, error: any Error, status: RunStatus, reason: FailureReason?, apiCalls: Int) {
        guard connection.isConnected else { return }
        let message = "shard \(slot.index)/\(slot.count): \(error)"
        _ = try? connection.execute(
            """
            UPDATE sfpg.shards SET status = 'failed', finished_at = now(), error_message = $3,
                api_calls_used = $4::int
            WHERE run_id = $1 AND shard_index = $2 AND status <> 'succeeded'
            """, [String(slot.runId), String(slot.index), message, String(apiCalls)])
        _ = try? connection.execute(
            """
            UPDATE sfpg.sync_logs SET status = $2, errors = coalesce(errors, 0) + 1, error_message = $3,
                failure_reason = $4, completed_at = clock_timestamp()
            WHERE id = $1 AND status <> 'success'
            """, [String(slot.logId), status.rawValue, message, reason?.rawValue])
    }

    /// Every shard of the logical run whose run-log row is `logId` (for `sfpg status`); empty for a run that was
    /// not sharded.
    public func shards(ofRunLog logId: Int64) throws -> [ShardReport] {
        let result = try connection.execute(
            """
            SELECT s.shard_index, s.status, s.attempts, s.records_processed, s.error_message, r.run_name
            FROM sfpg.shards s JOIN sfpg.shard_runs r ON r.id = s.run_id
            WHERE r.log_id = $1
            ORDER BY s.shard_index
            """, [String(logId)])
        return result.rows.map { row in
            ShardReport(
                runName: row[5] ?? "", index: Int(row[0] ?? "") ?? 0, status: row[1] ?? "",
                attempts: Int(row[2] ?? "") ?? 0, records: row[3].flatMap { Int($0) }, error: row[4])
        }
    }

    /// A JSON array of strings (`array_to_json` of a `text[]`) as strings; boundaries are Ids, so no escapes occur.
    static func jsonStrings(_ json: String) -> [String] {
        json.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").map {
            $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        }.filter { !$0.isEmpty }
    }
}

/// One shard's place in a logical run, as ``SyncStore/joinShardRun(jobName:objectName:runName:index:count:watermarkBefore:boundaries:)``
/// hands it out.
public struct ShardSlot: Sendable, Equatable {
    /// `sfpg.shard_runs.id`.
    public var runId: Int64
    public var runName: String
    /// The logical run's `sfpg.sync_logs.id`.
    public var logId: Int64
    public var index: Int
    public var count: Int
    /// The run's agreed range boundaries (``KeyRange`` per shard; see ``range``).
    public var boundaries: [String]
    /// This shard had succeeded in this run before (a restarted pod that had in fact finished): nothing to do.
    public var alreadySucceeded: Bool
    /// The Bulk job an earlier attempt of this shard recorded and did not commit.
    public var leftoverBulkJobId: String?
    /// 1 for the shard's first attempt in this run.
    public var attempt: Int

    /// The keys this shard loads and sweeps: range `index` of the boundaries (first and last open), or none when
    /// the boundaries give fewer ranges than shards.
    public var range: KeyRange {
        guard index <= boundaries.count else { return .none }
        return KeyRange(
            lower: index > 0 ? boundaries[index - 1] : nil, upper: index < boundaries.count ? boundaries[index] : nil)
    }
}

/// One shard of a logical run, for `sfpg status`.
public struct ShardReport: Sendable, Equatable, Codable {
    public var runName: String
    public var index: Int
    public var status: String
    public var attempts: Int
    public var records: Int?
    public var error: String?
}
