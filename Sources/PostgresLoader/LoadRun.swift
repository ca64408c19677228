/// One sync run of one job against PostgreSQL.
///
/// Lifecycle: `init` (advisory lock, read state) → ``recordInFlightBulkJob(_:)`` → ``begin()`` →
/// ``copyPage(_:_:)``… → ``commit(fullSweep:salesforceJobId:apiCalls:)``, or ``fail(_:status:salesforceJobId:apiCalls:)``
/// at any point. Everything from `begin` to `commit` is one transaction: the pages, the merge, the watermark and
/// the run-log row commit together or not at all. `deinit` rolls back and releases the lock if still held.
public final class LoadRun: PageSink {
    enum State { case ready, loading, finished }

    let connection: PostgresConnection
    public let jobName: String
    public let objectName: String
    public let mapping: LoadMapping
    /// Settable until `begin()`: the caller may pick full or incremental only after reading the watermark.
    public var syncType: SyncType
    let plan: LoadPlan
    let startedAt: String
    var state = State.ready
    var holdsLock = false
    var stagedRows = 0

    /// The job's watermark before this run: ISO-8601 UTC with millis, e.g. `2024-01-15T10:30:00.000Z`.
    public private(set) var previousWatermark: String?
    /// A Bulk API job id left in `sfpg.sync_state` by a run that crashed before committing.
    public internal(set) var inFlightBulkJobId: String?
    /// The SOQL that Bulk job ran, when the run that submitted it recorded it.
    public internal(set) var inFlightBulkJobQuery: String?

    static let lockKey = "hashtext('sfpg'), hashtext($1)"

    /// Takes the job's advisory lock, checks the target table and reads the job's state.
    /// - Throws: `PostgresError` `.lockHeld` if another run of the job holds the lock (with `.failFast`),
    ///   `.schema` if the target table or sfpg's tables are missing, `.configuration` for a bad mapping.
    public init(
        connection: PostgresConnection, jobName: String, objectName: String, mapping: LoadMapping,
        syncType: SyncType, lock: LockPolicy = .failFast
    ) throws {
        self.connection = connection
        self.jobName = jobName
        self.objectName = objectName
        self.mapping = mapping
        self.syncType = syncType
        if connection.isInTransaction {
            throw PostgresError(.configuration, "job '\(jobName)': the connection is already inside a transaction")
        }
        switch lock {
        case .failFast:
            let result = try connection.execute("SELECT pg_try_advisory_lock(\(Self.lockKey)) AS locked", [jobName])
            guard result[0, "locked"] == "t" else {
                throw PostgresError(
                    .lockHeld,
                    "job '\(jobName)' is already running (another sfpg process holds its lock); "
                        + "wait for it to finish or use the wait option")
            }
        case .wait:
            try connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))", [jobName])
        }
        do {
            plan = try LoadPlan(mapping: mapping, columnTypes: try Self.columnTypes(of: mapping.table, connection))
            startedAt = try connection.execute("SELECT clock_timestamp()::text AS now")[0, "now"] ?? "now"
            let stateResult: PostgresResult
            do {
                stateResult = try connection.execute(
                    "SELECT to_char(watermark AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS watermark, bulk_job_id, "
                        + "bulk_job_query "
                        + "FROM sfpg.sync_state WHERE job_name = $1", [jobName])
            } catch let error as PostgresError where error.sqlState == "42P01" || error.sqlState == "3F000" {
                throw PostgresError(.schema, "sfpg's tables are missing: run `sfpg migrate` first", sqlState: error.sqlState)
            }
            previousWatermark = stateResult[0, "watermark"]
            inFlightBulkJobId = stateResult[0, "bulk_job_id"]
            inFlightBulkJobQuery = stateResult[0, "bulk_job_query"]
        } catch {
            _ = try? connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))", [jobName])
            throw error
        }
        holdsLock = true
    }

    deinit {
        if state == .loading, connection.isConnected { _ = try? connection.execute("ROLLBACK") }
        releaseLock()
    }

    /// Target column name → type as `format_type` spells it, so staging rejects a bad value at COPY time.
    static func columnTypes(of table: TableName, _ connection: PostgresConnection) throws -> [String: String] {
        let result = try connection.execute(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            """, [table.quoted])
        if result.rows.isEmpty {
            throw PostgresError(.schema, "target table \(table) does not exist: run `sfpg migrate` or create it")
        }
        var types: [String: String] = [:]
        for row in result.rows {
            if let name = row[0], let type = row[1] { types[name] = type }
        }
        return types
    }

    /// Clears `id` as the job's in-flight Bulk job, in any state of the run (also after ``fail(_:status:salesforceJobId:apiCalls:)``),
    /// once the caller has aborted or deleted that job. Guarded on the id, so it never clears another run's job.
    public func forgetInFlightBulkJob(_ id: String) throws {
        try connection.execute(
            """
            UPDATE sfpg.sync_state SET bulk_job_id = NULL, bulk_job_created_at = NULL, bulk_job_query = NULL
            WHERE job_name = $1 AND bulk_job_id = $2
            """, [jobName, id])
        if inFlightBulkJobId == id {
            inFlightBulkJobId = nil
            inFlightBulkJobQuery = nil
        }
    }

    /// Records (or clears, with nil) the Bulk API job this run is about to read, in its own short transaction
    /// before ``begin()``, so a crashed run leaves it for the next run to resume or abort.
    public func recordInFlightBulkJob(_ id: String?, query: String? = nil) throws {
        guard state == .ready else {
            throw PostgresError(.configuration, "job '\(jobName)': recordInFlightBulkJob must come before begin()")
        }
        try connection.execute(
            """
            INSERT INTO sfpg.sync_state (job_name, object_name, target_table, bulk_job_id, bulk_job_created_at,
                bulk_job_query)
            VALUES ($1, $2, $3, $4::varchar, CASE WHEN $4::varchar IS NULL THEN NULL ELSE now() END, $5)
            ON CONFLICT (job_name) DO UPDATE SET object_name = EXCLUDED.object_name,
                target_table = EXCLUDED.target_table, bulk_job_id = EXCLUDED.bulk_job_id,
                bulk_job_created_at = EXCLUDED.bulk_job_created_at, bulk_job_query = EXCLUDED.bulk_job_query,
                updated_at = now()
            """, [jobName, objectName, mapping.table.quoted, id, id == nil ? nil : query])
        inFlightBulkJobId = id
        inFlightBulkJobQuery = id == nil ? nil : query
    }

    /// Opens the run's transaction, disables `statement_timeout` for it (a COPY waits on Salesforce) and
    /// creates the temporary staging table, typed like the target's columns.
    public func begin() throws {
        guard state == .ready else {
            throw PostgresError(.configuration, "job '\(jobName)': begin() called twice or after the run ended")
        }
        try connection.execute("BEGIN")
        state = .loading
        try connection.execute("SET LOCAL statement_timeout = 0")
        try connection.execute(plan.stagingDDL)
    }

    /// The staging DDL, COPY and merge SQL this run would execute, for `--dry-run`.
    /// - Parameter fullSweep: whether the run would sweep missing keys (default: a full run does).
    public func previewSQL(fullSweep: Bool? = nil) -> [String] {
        var statements = [plan.stagingDDL + ";", plan.copySQL + ";  -- once per result page", plan.mergeSQL + ";"]
        if fullSweep ?? (syncType == .full), let sweep = try? plan.sweepSQL() {
            statements.append(sweep + ";  -- full sync of an unfiltered object only")
        }
        return statements
    }

    func releaseLock() {
        guard holdsLock else { return }
        holdsLock = false
        if connection.isConnected {
            _ = try? connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))", [jobName])
        }
    }
}

@available(*, unavailable)
extension LoadRun: Sendable {}
