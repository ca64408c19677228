/// Re-reads some columns of rows already in a job's table, in its own transaction: backfills columns a job
/// gained, and refreshes formula fields, whose values change without moving SystemModstamp.
///
/// Lifecycle, inside the job's lock: `init` → ``begin()`` → ``beginPage(_:)``/``finishPage(_:)``… →
/// ``commit(recordSyncedFields:calculatedRefreshed:runId:)``, or ``rollback()``. The staged CSV holds the key, the
/// modstamp and the refreshed fields; rows are only ever updated, never inserted, and only where the table's
/// version is not newer than the one read (a newer version came with every field already).
public final class ColumnRefresh: PageSink {
    let connection: PostgresConnection
    let store: SyncStore
    public let jobName: String
    let plan: LoadPlan
    private var open = false
    /// The pages' COPY into staging.
    private let pages: TableSink
    /// Rows COPY kept, over every finished page.
    public var stagedRows: Int { pages.stagedRows }
    let recordSyncedFields: [String]?
    let calculatedRefreshed: Bool
    let runId: Int64?

    /// Call inside the job's lock (``SyncStore/withJobLock(_:table:policy:_:)``).
    /// - Parameters:
    ///   - mapping: the job's mapping; only its table, key, modstamp, `syncedAtColumn` and `audit` are used.
    ///   - columns: the fields to re-read and the columns they fill.
    /// - Throws: `PostgresError` `.schema` for a missing column.
    ///   - recordSyncedFields/calculatedRefreshed/runId: what ``commit(_:)`` records (see
    ///     ``commit(recordSyncedFields:calculatedRefreshed:runId:)``).
    public init(
        store: SyncStore, jobName: String, mapping: LoadMapping, columns: [ColumnMapping],
        recordSyncedFields: [String]? = nil, calculatedRefreshed: Bool = false, runId: Int64? = nil
    ) throws {
        self.recordSyncedFields = recordSyncedFields
        self.calculatedRefreshed = calculatedRefreshed
        self.runId = runId
        self.store = store
        connection = store.connection
        self.jobName = jobName
        var narrow = LoadMapping(
            table: mapping.table, key: mapping.key, modstamp: mapping.modstamp, isDeleted: nil, columns: columns,
            deletes: .ignore, syncedAtColumn: mapping.syncedAtColumn, deletedAtColumn: nil)
        narrow.audit = mapping.audit
        plan = try LoadPlan(mapping: narrow, columnTypes: try LoadRun.columnTypes(of: mapping.table, connection))
        pages = TableSink(connection: connection, copySQL: plan.copySQL, fields: plan.mapping.sourceFields)
    }

    /// The Salesforce fields to select, in CSV order: key, modstamp, then the refreshed fields.
    public var sourceFields: [String] { plan.mapping.sourceFields }

    public func begin() throws {
        try connection.execute("BEGIN")
        open = true
        try connection.execute("SET LOCAL statement_timeout = 0")
        try connection.limitLockWaits()
        try connection.execute(plan.stagingDDL)
    }

    public func beginPage(_ pageNumber: Int) throws -> PageWriter { try pages.beginPage(pageNumber) }

    @discardableResult
    public func finishPage(_ page: PageWriter) throws -> Int { try pages.finishPage(page) }

    public func abort(_ page: PageWriter, because error: any Error) -> any Error { pages.abort(page, because: error) }

    /// Audits (if the job does), updates the changed rows, records the job's state and commits.
    /// - Parameters:
    ///   - recordSyncedFields: stored as `sfpg.sync_state.synced_fields` (after a backfill); nil leaves it.
    ///   - calculatedRefreshed: sets `calculated_refreshed_at` to now.
    ///   - runId: the run that triggered the refresh, for its audit rows.
    /// - Returns: rows whose values changed.
    public func commit(recordSyncedFields: [String]?, calculatedRefreshed: Bool, runId: Int64? = nil) throws -> Int {
        do {
            return try update(recordSyncedFields: recordSyncedFields, calculatedRefreshed: calculatedRefreshed, runId: runId)
        } catch {
            throw connection.explainingLockTimeout(error, table: plan.mapping.table, jobName: jobName)
        }
    }

    private func update(recordSyncedFields: [String]?, calculatedRefreshed: Bool, runId: Int64?) throws -> Int {
        let table = plan.mapping.table.quoted
        let key = SQLIdentifier.quote(plan.mapping.key.column)
        let modstamp = SQLIdentifier.quote(plan.mapping.modstamp.column)
        let columns = plan.auditedColumns
        let source = """
            SELECT DISTINCT ON (\(key)) \(plan.stagedSelectList) FROM \(plan.staging)
            ORDER BY \(key), \(modstamp) DESC NULLS LAST
            """
        // Types without an equality operator (json, xml, geometric) are compared as text, as the merge does.
        let differs = plan.columnsDiffer(stored: "t", incoming: "src") ?? "false"
        let matches = "t.\(key) = src.\(key) AND t.\(modstamp) <= src.\(modstamp) AND \(differs)"
        if let audit = plan.mapping.audit, !columns.isEmpty {
            let changes = plan.changesExpression(
                old: { "to_jsonb(t.\(SQLIdentifier.quote($0)))" }, new: { "to_jsonb(src.\(SQLIdentifier.quote($0)))" })
            try store.appendChanges(
                fromQuery: """
                    SELECT t.\(key)::text AS record_key, 'update' AS operation, \(changes) AS changes,
                        t.\(modstamp) AS system_modstamp
                    FROM (\(source)) AS src JOIN \(table) AS t ON \(matches)
                    """,
                runId: runId, jobName: jobName, policy: audit)
        }
        var sets = columns.map { "\(SQLIdentifier.quote($0)) = src.\(SQLIdentifier.quote($0))" }
        if plan.hasSyncedAt, let synced = plan.mapping.syncedAtColumn { sets.append("\(SQLIdentifier.quote(synced)) = now()") }
        let updated = columns.isEmpty ? 0 : try connection.execute(
            "UPDATE \(table) AS t SET \(sets.joined(separator: ", ")) FROM (\(source)) AS src WHERE \(matches)"
        ).affectedRows
        try store.recordColumns(jobName: jobName, syncedFields: recordSyncedFields, calculatedRefreshed: calculatedRefreshed)
        try connection.execute("COMMIT")
        open = false
        return updated
    }

    /// Rolls back (nothing of the refresh is kept, an open page's COPY included); safe to call twice.
    public func rollback() {
        if open { try? store.cleanUp() }
        open = false
    }
}

@available(*, unavailable)
extension ColumnRefresh: Sendable {}
