/// Re-reads some columns of rows already in a job's table, in its own transaction: backfills columns a job
/// gained, and refreshes formula fields, whose values change without moving SystemModstamp.
///
/// Lifecycle: `init` (advisory lock of the job) → ``begin()`` → ``beginPage(_:)``/``finishPage(_:)``… →
/// ``commit(recordSyncedFields:calculatedRefreshed:runId:)``, or ``rollback()``. The staged CSV holds the key, the
/// modstamp and the refreshed fields; rows are only ever updated, never inserted, and only where the table's
/// version is not newer than the one read (a newer version came with every field already).
public final class ColumnRefresh: PageSink {
    let connection: PostgresConnection
    public let jobName: String
    let plan: LoadPlan
    private var open = false
    private var holdsLock = false

    /// - Parameters:
    ///   - mapping: the job's mapping; only its table, key, modstamp, `syncedAtColumn` and `audit` are used.
    ///   - columns: the fields to re-read and the columns they fill.
    /// - Throws: `PostgresError` `.lockHeld` if a run of the job holds its lock, `.schema` for a missing column.
    public init(connection: PostgresConnection, jobName: String, mapping: LoadMapping, columns: [ColumnMapping]) throws {
        self.connection = connection
        self.jobName = jobName
        var narrow = LoadMapping(
            table: mapping.table, key: mapping.key, modstamp: mapping.modstamp, isDeleted: nil, columns: columns,
            deletes: .ignore, syncedAtColumn: mapping.syncedAtColumn, deletedAtColumn: nil)
        narrow.audit = mapping.audit
        plan = try LoadPlan(mapping: narrow, columnTypes: try LoadRun.columnTypes(of: mapping.table, connection))
        let locked = try connection.execute("SELECT pg_try_advisory_lock(\(LoadRun.lockKey)) AS locked", [jobName])
        guard locked[0, "locked"] == "t" else {
            throw PostgresError(.lockHeld, "job '\(jobName)' is already running; its columns are refreshed by a later run")
        }
        holdsLock = true
    }

    deinit { rollback() }

    /// The Salesforce fields to select, in CSV order: key, modstamp, then the refreshed fields.
    public var sourceFields: [String] { plan.mapping.sourceFields }

    public func begin() throws {
        try connection.execute("BEGIN")
        open = true
        try connection.execute("SET LOCAL statement_timeout = 0")
        try connection.execute(plan.stagingDDL)
    }

    public func beginPage(_ pageNumber: Int) throws -> PageWriter {
        try connection.beginStagingPage(pageNumber, copySQL: plan.copySQL, expectedFields: plan.mapping.sourceFields)
    }

    @discardableResult
    public func finishPage(_ page: PageWriter) throws -> Int {
        try connection.finishStagingPage(page)
    }

    public func abort(_ page: PageWriter, because error: any Error) -> any Error {
        connection.abortStagingPage(page, because: error)
    }

    /// Audits (if the job does), updates the changed rows, records the job's state and commits.
    /// - Parameters:
    ///   - recordSyncedFields: stored as `sfpg.sync_state.synced_fields` (after a backfill); nil leaves it.
    ///   - calculatedRefreshed: sets `calculated_refreshed_at` to now.
    ///   - runId: the run that triggered the refresh, for its audit rows.
    /// - Returns: rows whose values changed.
    public func commit(recordSyncedFields: [String]?, calculatedRefreshed: Bool, runId: Int64? = nil) throws -> Int {
        let table = plan.mapping.table.quoted
        let key = SQLIdentifier.quote(plan.mapping.key.column)
        let modstamp = SQLIdentifier.quote(plan.mapping.modstamp.column)
        let columns = plan.auditedColumns
        let source = """
            SELECT DISTINCT ON (\(key)) \(plan.stagedSelectList) FROM \(LoadPlan.staging)
            ORDER BY \(key), \(modstamp) DESC NULLS LAST
            """
        let differs = "(\(columns.map { "t." + SQLIdentifier.quote($0) }.joined(separator: ", "))) IS DISTINCT FROM "
            + "(\(columns.map { "src." + SQLIdentifier.quote($0) }.joined(separator: ", ")))"
        let matches = "t.\(key) = src.\(key) AND t.\(modstamp) <= src.\(modstamp) AND \(differs)"
        if let audit = plan.mapping.audit, !columns.isEmpty {
            let changes = plan.changesExpression(
                old: { "to_jsonb(t.\(SQLIdentifier.quote($0)))" }, new: { "to_jsonb(src.\(SQLIdentifier.quote($0)))" })
            try connection.execute(
                """
                INSERT INTO sfpg.changes (run_id, job_name, record_key, operation, changes, system_modstamp)
                SELECT $2::bigint, $1, t.\(key)::text, 'update', \(changes), t.\(modstamp)
                FROM (\(source)) AS src JOIN \(table) AS t ON \(matches)
                ORDER BY 3
                """, [jobName, runId.map(String.init)])
            try LoadRun.pruneAudit(connection, jobName: jobName, policy: audit)
        }
        var sets = columns.map { "\(SQLIdentifier.quote($0)) = src.\(SQLIdentifier.quote($0))" }
        if plan.hasSyncedAt, let synced = plan.mapping.syncedAtColumn { sets.append("\(SQLIdentifier.quote(synced)) = now()") }
        let updated = columns.isEmpty ? 0 : try connection.execute(
            "UPDATE \(table) AS t SET \(sets.joined(separator: ", ")) FROM (\(source)) AS src WHERE \(matches)"
        ).affectedRows
        try connection.execute(
            """
            UPDATE sfpg.sync_state SET synced_fields = coalesce($2::text[], synced_fields),
                calculated_refreshed_at = CASE WHEN $3 THEN now() ELSE calculated_refreshed_at END, updated_at = now()
            WHERE job_name = $1
            """,
            [jobName, recordSyncedFields.map(Self.arrayLiteral), calculatedRefreshed ? "true" : "false"])
        try connection.execute("COMMIT")
        open = false
        releaseLock()
        return updated
    }

    /// Rolls back (nothing of the refresh is kept) and releases the lock; safe to call twice.
    public func rollback() {
        if open, connection.isConnected { _ = try? connection.execute("ROLLBACK") }
        open = false
        releaseLock()
    }

    private func releaseLock() {
        guard holdsLock else { return }
        holdsLock = false
        if connection.isConnected { _ = try? connection.execute("SELECT pg_advisory_unlock(\(LoadRun.lockKey))", [jobName]) }
    }

    /// A `text[]` literal; field API names never need more than quoting.
    public static func arrayLiteral(_ values: [String]) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }
}

@available(*, unavailable)
extension ColumnRefresh: Sendable {}
