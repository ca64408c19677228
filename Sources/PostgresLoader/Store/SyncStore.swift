import Foundation

/// The one owner of sfpg's bookkeeping tables: `sfpg.sync_state` (per job), `sfpg.sync_logs` (per run) and
/// `sfpg.changes` (the audit trail), and of the advisory locks that serialize runs.
///
/// Every read and write of those tables goes through here, so the rules about them (a watermark only moves forward,
/// a failed run still leaves its row, a run holds its job's and its table's lock) live in one place.
public final class SyncStore {
    let connection: PostgresConnection
    /// Called with the holder's description when a `.wait` lock is held by another session, before blocking on
    /// it: a run that waits for minutes must say why at the default log level.
    public var onLockWait: (String) -> Void = { _ in }
    /// The `sfpg serve` request that started the runs this store logs (`sync_logs.request_id`); nil otherwise.
    public var requestId: String?

    public init(_ connection: PostgresConnection) {
        self.connection = connection
    }

    /// The two-int4 key space of the per-job and per-table locks; the migration lock uses the bigint space.
    static let jobLockKey = "hashtext('sfpg'), hashtext($1)"
    static let tableLockKey = "hashtext('sfpg.table'), hashtext($1)"

    // MARK: Locks

    /// Runs `body` holding the job's advisory lock and its target table's, and releases both however `body` ends.
    ///
    /// Two jobs that write one table (allowed only when they declare it) therefore never merge or sweep at the same
    /// time. If `body` leaves a transaction open (it threw half-way), it is rolled back here, COPY included, so the
    /// connection is clean for the next job of the same invocation.
    /// - Throws: `PostgresError` `.lockHeld` when another run holds either lock and `policy` is `.failFast`;
    ///   `.schema` when sfpg's tables are missing; whatever `body` throws.
    public func withJobLock<T>(
        _ jobName: String, table: TableName, policy: LockPolicy, _ body: (JobState) throws -> T
    ) throws -> T {
        try cleanUp()
        try lock(Self.jobLockKey, jobName, policy: policy, holder: "job '\(jobName)'")
        defer { unlock(Self.jobLockKey, jobName) }
        try lock(Self.tableLockKey, table.quoted, policy: policy, holder: "table \(table) (written by job '\(jobName)')")
        defer { unlock(Self.tableLockKey, table.quoted) }
        let state = try self.state(ofJob: jobName)
        defer { try? cleanUp() }
        return try body(state)
    }

    /// Takes the advisory lock `key` on `value`: exclusive, or shared (shards of one run hold their job's lock
    /// together; a normal run's exclusive lock excludes them all).
    func lock(_ key: String, _ value: String, shared: Bool = false, policy: LockPolicy, holder: String) throws {
        let kind = shared ? "_shared" : ""
        switch policy {
        case .failFast:
            let result = try connection.execute("SELECT pg_try_advisory_lock\(kind)(\(key)) AS locked", [value])
            guard result[0, "locked"] == "t" else {
                throw PostgresError(
                    .lockHeld,
                    "\(holder) is already being synced (another sfpg process holds its lock); "
                        + "wait for it to finish, or run with --wait-lock to wait for the lock")
            }
        case .wait:
            let result = try connection.execute("SELECT pg_try_advisory_lock\(kind)(\(key)) AS locked", [value])
            guard result[0, "locked"] != "t" else { return }
            if !holder.isEmpty { onLockWait(holder) }
            try connection.execute("SELECT pg_advisory_lock\(kind)(\(key))", [value])
        }
    }

    func unlock(_ key: String, _ value: String, shared: Bool = false) {
        guard connection.isConnected else { return }
        if connection.isInTransaction { _ = try? connection.execute("ROLLBACK") }
        _ = try? connection.execute("SELECT pg_advisory_unlock\(shared ? "_shared" : "")(\(key))", [value])
    }

    /// Ends whatever an interrupted caller left open on the connection: a COPY, then a transaction.
    func cleanUp() throws {
        connection.abandonCopy()
        if connection.isInTransaction { try connection.execute("ROLLBACK") }
    }

    // MARK: Job state

    /// What `sfpg.sync_state` remembers of a job; all nil for a job that never ran.
    /// - Throws: `PostgresError` `.schema` when sfpg's tables are missing.
    public func state(ofJob jobName: String) throws -> JobState {
        let result: PostgresResult
        do {
            result = try connection.execute(
                """
                SELECT to_char(watermark AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS watermark, bulk_job_id,
                    bulk_job_query, array_to_string(synced_fields, ',') AS fields, synced_fields IS NULL AS unknown,
                    extract(epoch FROM now() - calculated_refreshed_at)::float8 AS calculated_age, org_id,
                    to_char(deletes_covered_until AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS deletes_covered_until
                FROM sfpg.sync_state WHERE job_name = $1
                """, [jobName])
        } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000" {
            throw PostgresError(.schema, "sfpg's tables are missing: run `sfpg migrate` first", sqlState: error.sqlState)
        }
        guard !result.rows.isEmpty else { return JobState() }
        return JobState(
            watermark: result[0, "watermark"], inFlightBulkJobId: result[0, "bulk_job_id"],
            inFlightBulkJobQuery: result[0, "bulk_job_query"],
            syncedFields: result[0, "unknown"] == "t"
                ? nil : (result[0, "fields"] ?? "").split(separator: ",").map(String.init),
            calculatedAge: result[0, "calculated_age"].flatMap { Double($0) }, orgId: result[0, "org_id"],
            deletesCoveredUntil: result[0, "deletes_covered_until"])
    }

    /// Records (or clears, with nil) the Bulk API job a run is about to read, committed on its own before the run's
    /// transaction, so a crashed run leaves it for the next run to resume or abort.
    public func recordInFlightBulkJob(
        _ id: String?, query: String?, jobName: String, objectName: String, table: TableName
    ) throws {
        try connection.execute(
            """
            INSERT INTO sfpg.sync_state (job_name, object_name, target_table, bulk_job_id, bulk_job_created_at,
                bulk_job_query)
            VALUES ($1, $2, $3, $4::varchar, CASE WHEN $4::varchar IS NULL THEN NULL ELSE now() END, $5)
            ON CONFLICT (job_name) DO UPDATE SET object_name = EXCLUDED.object_name,
                target_table = EXCLUDED.target_table, bulk_job_id = EXCLUDED.bulk_job_id,
                bulk_job_created_at = EXCLUDED.bulk_job_created_at, bulk_job_query = EXCLUDED.bulk_job_query,
                updated_at = now()
            """, [jobName, objectName, table.quoted, id, id == nil ? nil : query])
    }

    /// Clears `id` as the job's in-flight Bulk job once it was aborted or deleted; guarded on the id, so it never
    /// clears another run's job.
    public func forgetInFlightBulkJob(_ id: String, jobName: String) throws {
        try connection.execute(
            """
            UPDATE sfpg.sync_state SET bulk_job_id = NULL, bulk_job_created_at = NULL, bulk_job_query = NULL
            WHERE job_name = $1 AND bulk_job_id = $2
            """, [jobName, id])
    }

    /// Moves the job's watermark forward (never back), clears its in-flight Bulk job, points at the run and records
    /// the org it read (`orgId`; nil keeps the recorded one) and where its deletes check covered to
    /// (`deletesCoveredUntil`; nil keeps it); inside the run's transaction, so it commits with the rows.
    func advance(
        jobName: String, objectName: String, table: TableName, watermark: String?, fullSync: Bool, runId: Int64,
        orgId: String? = nil, deletesCoveredUntil: String? = nil
    ) throws {
        try connection.execute(
            """
            INSERT INTO sfpg.sync_state AS s (job_name, object_name, target_table, watermark, bulk_job_id,
                bulk_job_created_at, last_full_sync_at, last_run_id, updated_at, org_id, deletes_covered_until)
            VALUES ($1, $2, $3, $4::timestamptz, NULL, NULL, CASE WHEN $5 THEN now() END, $6, now(), $7, $8::timestamptz)
            ON CONFLICT (job_name) DO UPDATE SET object_name = EXCLUDED.object_name,
                target_table = EXCLUDED.target_table, watermark = greatest(s.watermark, EXCLUDED.watermark),
                bulk_job_id = NULL, bulk_job_created_at = NULL, bulk_job_query = NULL,
                last_full_sync_at = coalesce(EXCLUDED.last_full_sync_at, s.last_full_sync_at),
                last_run_id = EXCLUDED.last_run_id, updated_at = now(), org_id = coalesce(EXCLUDED.org_id, s.org_id),
                deletes_covered_until = coalesce(EXCLUDED.deletes_covered_until, s.deletes_covered_until)
            """,
            [jobName, objectName, table.quoted, watermark, fullSync ? "true" : "false", String(runId), orgId,
             deletesCoveredUntil])
    }

    /// Records which fields the job's table was loaded with (nil leaves them) and, with `calculatedRefreshed`, that
    /// its formula fields were just re-read.
    public func recordColumns(jobName: String, syncedFields: [String]?, calculatedRefreshed: Bool) throws {
        try connection.execute(
            """
            UPDATE sfpg.sync_state SET synced_fields = coalesce($2::text[], synced_fields),
                calculated_refreshed_at = CASE WHEN $3 THEN now() ELSE calculated_refreshed_at END, updated_at = now()
            WHERE job_name = $1
            """,
            [jobName, syncedFields.map(Self.arrayLiteral), calculatedRefreshed ? "true" : "false"])
    }

    // MARK: Run log

    /// Appends one `sfpg.sync_logs` row; the watermark after a run never falls below the one before.
    /// - Returns: the row's id and its `watermark_after` (ISO-8601 UTC).
    func appendRun(_ entry: RunLogEntry) throws -> (id: Int64, watermarkAfter: String?) {
        let counts = entry.counts
        let logged = try connection.execute(
            """
            INSERT INTO sfpg.sync_logs (sync_type, records_processed, records_inserted, records_updated, errors,
                started_at, completed_at, status, error_message, job_name, object_name, records_deleted,
                records_unchanged, watermark_before, watermark_after, salesforce_job_id, api_calls_used,
                records_expected, records_downloaded, result_pages, failure_reason, request_id)
            VALUES ($1, $2, $3, $4, $5, $6::timestamptz,
                CASE WHEN $7 = 'running' THEN NULL ELSE clock_timestamp() END, $7, $8, $9, $10, $11, $12,
                $13::timestamptz, greatest($13::timestamptz, $14::timestamptz), $15, $16, $17, $18, $19, $20, $21)
            RETURNING id, to_char(watermark_after AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS watermark_after
            """,
            [
                entry.syncType.rawValue, String(counts.staged), String(counts.inserted), String(counts.updated),
                entry.status == .success || entry.status == .running ? "0" : "1", entry.startedAt, entry.status.rawValue, entry.errorMessage,
                entry.jobName, entry.objectName, String(counts.deleted), String(counts.unchanged),
                entry.watermarkBefore, entry.status == .success ? counts.maxModstamp : nil, entry.salesforceJobId,
                String(entry.apiCalls), entry.reconciliation.expected.map(String.init),
                entry.reconciliation.downloaded.map(String.init), entry.reconciliation.pages.map(String.init),
                entry.failureReason?.rawValue, requestId,
            ])
        guard let text = logged[0, "id"], let id = Int64(text) else {
            throw PostgresError(.query, "job '\(entry.jobName)': inserting the run-log row returned no id")
        }
        return (id, logged[0, "watermark_after"])
    }

    /// Logs a run that failed before it could load anything (its table or mapping was unusable), so that every
    /// failed run leaves its row, not only those that got as far as a transaction.
    public func logFailedStart(
        jobName: String, objectName: String, syncType: SyncType, status: RunStatus, error: any Error,
        watermarkBefore: String?, apiCalls: Int
    ) {
        guard connection.isConnected, let startedAt = try? now() else { return }
        _ = try? appendRun(
            RunLogEntry(
                jobName: jobName, objectName: objectName, syncType: syncType, status: status, startedAt: startedAt,
                errorMessage: String(describing: error), watermarkBefore: watermarkBefore, salesforceJobId: nil,
                apiCalls: apiCalls))
    }

    /// The database's clock, for a run's `started_at`.
    func now() throws -> String {
        try connection.execute("SELECT clock_timestamp()::text AS now")[0, "now"] ?? "now"
    }

    // MARK: Audit trail

    /// Appends audit rows selected by `query` (columns record_key, operation, changes, system_modstamp) under the
    /// run's id, then prunes the job's rows past `policy`'s retention. In the caller's transaction.
    func appendChanges(fromQuery query: String, parameters: [String?] = [], runId: Int64?, jobName: String,
                       policy: AuditPolicy) throws
    {
        let offset = parameters.count
        try connection.execute(
            """
            INSERT INTO sfpg.changes (run_id, job_name, record_key, operation, changes, system_modstamp)
            SELECT $\(offset + 1)::bigint, $\(offset + 2), c.record_key, c.operation, c.changes, c.system_modstamp
            FROM (\(query)) AS c ORDER BY c.record_key
            """, parameters + [runId.map(String.init), jobName])
        guard let seconds = policy.retentionSeconds else { return }
        try connection.execute(
            "DELETE FROM sfpg.changes WHERE job_name = $1 AND recorded_at < now() - make_interval(secs => $2::float8)",
            [jobName, String(seconds)])
    }

    // MARK: Reports

    /// A job's run record for metrics: when it last succeeded, its watermark, and its latest run-log row (seconds
    /// since the epoch; nil where there is none). A failed run uses it so its metrics keep the last success.
    public func lastRuns(jobName: String) throws -> LastRuns {
        let result = try connection.execute(
            """
            SELECT extract(epoch FROM (SELECT g.completed_at FROM sfpg.sync_logs g WHERE g.job_name = $1
                       AND g.status = 'success' ORDER BY g.id DESC LIMIT 1))::float8 AS last_success,
                   extract(epoch FROM (SELECT s.watermark FROM sfpg.sync_state s WHERE s.job_name = $1))::float8 AS watermark,
                   l.id, l.status, l.records_expected, l.records_downloaded, l.records_processed, l.api_calls_used, l.result_bytes
              FROM (SELECT 1) AS one
              LEFT JOIN LATERAL (SELECT * FROM sfpg.sync_logs g WHERE g.job_name = $1 ORDER BY g.id DESC LIMIT 1) l ON true
            """, [jobName])
        return LastRuns(
            lastSuccessAt: result[0, "last_success"].flatMap(Double.init), watermark: result[0, "watermark"].flatMap(Double.init),
            latestRunId: result[0, "id"].flatMap { Int64($0) }, latestStatus: result[0, "status"],
            latestExpected: result[0, "records_expected"].flatMap { Int($0) },
            latestDownloaded: result[0, "records_downloaded"].flatMap { Int($0) },
            latestStaged: result[0, "records_processed"].flatMap { Int($0) },
            latestAPICalls: result[0, "api_calls_used"].flatMap { Int($0) },
            latestResultBytes: result[0, "result_bytes"].flatMap { Int64($0) })
    }

    /// Every audit row of one record, oldest first, one result row per changed column (for `sfpg history`).
    /// Columns: id, run_id, operation, modstamp, recorded, col, old, new (JSON text).
    public func changes(jobName: String, recordKey: String) throws -> PostgresResult {
        try connection.execute(
            """
            SELECT c.id, c.run_id, c.operation,
                to_char(c.system_modstamp AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS modstamp,
                to_char(c.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS recorded,
                e.key AS col, nullif(e.value -> 'old', 'null'::jsonb)::text AS old,
                nullif(e.value -> 'new', 'null'::jsonb)::text AS new
            FROM sfpg.changes c LEFT JOIN LATERAL jsonb_each(c.changes) e ON true
            WHERE c.job_name = $1 AND c.record_key = $2
            ORDER BY c.id, e.key
            """, [jobName, recordKey])
    }

    /// A `text[]` literal; field API names never need more than quoting.
    static func arrayLiteral(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}

@available(*, unavailable)
extension SyncStore: Sendable {}

/// What `sfpg.sync_state` remembers of one job.
public struct JobState: Sendable, Equatable {
    /// The largest watermark value loaded so far: ISO-8601 UTC with millis, e.g. `2024-01-15T10:30:00.000Z`.
    public var watermark: String?
    /// A Bulk API job a run recorded and did not finish (it crashed, or was killed).
    public var inFlightBulkJobId: String?
    /// The operation and SOQL of that job, when the run recorded it.
    public var inFlightBulkJobQuery: String?
    /// The fields the table was last loaded with; nil before the first run that recorded them.
    public var syncedFields: [String]?
    /// Seconds since the formula fields were last re-read; nil if never.
    public var calculatedAge: Double?
    /// The org Id the job's committed runs read from, as Salesforce gave it; nil before the first one.
    public var orgId: String?
    /// Every deletion up to this instant (Salesforce's clock, ISO-8601 UTC) is reflected in the table: where the
    /// next deletes check starts; nil when unknown.
    public var deletesCoveredUntil: String?

    public init(
        watermark: String? = nil, inFlightBulkJobId: String? = nil, inFlightBulkJobQuery: String? = nil,
        syncedFields: [String]? = nil, calculatedAge: Double? = nil, orgId: String? = nil,
        deletesCoveredUntil: String? = nil
    ) {
        self.deletesCoveredUntil = deletesCoveredUntil
        self.orgId = orgId
        self.watermark = watermark
        self.inFlightBulkJobId = inFlightBulkJobId
        self.inFlightBulkJobQuery = inFlightBulkJobQuery
        self.syncedFields = syncedFields
        self.calculatedAge = calculatedAge
    }
}

/// What ``SyncStore/lastRuns(jobName:)`` reads: times in seconds since the epoch.
public struct LastRuns: Sendable, Equatable {
    public var lastSuccessAt: Double?
    public var watermark: Double?
    public var latestRunId: Int64?
    public var latestStatus: String?
    public var latestExpected: Int?
    public var latestDownloaded: Int?
    public var latestStaged: Int?
    public var latestAPICalls: Int?
    public var latestResultBytes: Int64? = nil
}

/// How a run ended, as `sfpg.sync_logs.status` records it.
public enum RunStatus: String, Sendable {
    case success, failed, cancelled
    /// A sharded logical run whose shards have not all succeeded yet (its one row is updated as they finish).
    case running
}

/// Why a run refused to commit, when sfpg itself decided so (`sfpg.sync_logs.failure_reason`).
public enum FailureReason: String, Sendable {
    /// Salesforce's record count, the result pages and the staged rows disagreed.
    case incomplete
    /// The full sweep would have removed more rows than `max_sweep` allows.
    case sweepLimit = "sweep_limit"
    /// A watermark value lay in the future.
    case futureWatermark = "future_watermark"
    /// The next step would have taken the org past the job's `api_budget`.
    case apiBudget = "api_budget"
}

/// The three numbers a run must agree on before it commits.
public struct Reconciliation: Sendable, Equatable {
    /// Salesforce's `numberRecordsProcessed` for the Bulk job.
    public var expected: Int?
    /// The sum of the records of every result page.
    public var downloaded: Int?
    /// Result pages read.
    public var pages: Int?

    public init(expected: Int? = nil, downloaded: Int? = nil, pages: Int? = nil) {
        self.expected = expected
        self.downloaded = downloaded
        self.pages = pages
    }
}

/// One `sfpg.sync_logs` row.
struct RunLogEntry {
    var jobName: String
    var objectName: String
    var syncType: SyncType
    var status: RunStatus
    var startedAt: String
    var counts = MergeCounts()
    var reconciliation = Reconciliation()
    var errorMessage: String? = nil
    var failureReason: FailureReason? = nil
    var watermarkBefore: String?
    var salesforceJobId: String?
    var apiCalls: Int
}
