/// One sync run of one job against PostgreSQL, inside ``SyncStore/withJobLock(_:table:policy:_:)``.
///
/// Lifecycle: ``begin()`` → ``beginPage(_:)``/``finishPage(_:)``… → ``commit(_:)``, or ``fail(_:status:reconciliation:salesforceJobId:apiCalls:)``
/// at any point. Everything from `begin` to `commit` is one transaction: the pages, the merge, the watermark and
/// the run-log row commit together or not at all, and only once the run has proved it holds every record.
public final class LoadRun: PageSink {
    enum Phase { case ready, loading, finished }

    /// Where the pages go: a staging table merged at commit, or (a first load into an empty table) the target itself.
    public enum Path: Sendable { case staged, direct }

    let connection: PostgresConnection
    let store: SyncStore
    public let jobName: String
    public let objectName: String
    public let mapping: LoadMapping
    public let syncType: SyncType
    var plan: LoadPlan
    let startedAt: String
    var phase = Phase.ready
    /// Decided by ``begin()``, under the job's and the table's locks.
    public internal(set) var path = Path.staged
    /// Whether the target held no row when ``begin()`` looked (under the locks).
    var targetWasEmpty = false
    /// Whether ``begin()`` may choose ``Path/direct``; ``loading(_:_:)`` turns it off for its second attempt.
    public var allowsDirectLoad = true
    /// Rows COPY kept, over every finished page.
    public internal(set) var stagedRows = 0
    /// The page whose COPY is open, so a failure can end it before anything else runs on the connection.
    var openPage: PageWriter?
    /// Where pages go instead of staging while a wide object is read in parts (``beginPart(_:fields:)``).
    var pageTarget: (copySQL: String, fields: [String])?
    /// Set when the run stages resumably (``stageResumably(into:scope:)``): each page commits on its own.
    public internal(set) var staged: StagedPages?

    /// The job's watermark before this run: ISO-8601 UTC with millis, e.g. `2024-01-15T10:30:00.000Z`.
    public let previousWatermark: String?

    /// The shard of a logical run this run loads (`--shard I/N`), nil for a normal run. A shard sweeps only its key
    /// range, always loads through staging, and commits into its shard row (see ``SyncStore/commitShard``).
    public let shard: ShardSlot?

    /// How far a watermark may lie past the database's clock before the run refuses it (clock skew between
    /// Salesforce and PostgreSQL; anything beyond is a bad value that would freeze incremental runs).
    public static let maxClockSkewSeconds = 600

    /// Checks the target table and prepares the run's SQL. Call inside the job's lock, with its state.
    /// - Throws: `PostgresError` `.schema` if the target table is missing, `.configuration` for a bad mapping (a
    ///   missing column, or a watermark column that is not a timestamp).
    public init(
        store: SyncStore, state: JobState, jobName: String, objectName: String, mapping: LoadMapping, syncType: SyncType,
        shard: ShardSlot? = nil
    ) throws {
        self.shard = shard
        self.store = store
        connection = store.connection
        self.jobName = jobName
        self.objectName = objectName
        self.mapping = mapping
        self.syncType = syncType
        previousWatermark = state.watermark
        plan = try Self.targetPlan(mapping, connection)
        startedAt = try store.now()
    }

    /// Every check of the target a run makes before its first Bulk job: the table, a column of a usable type for
    /// each mapped field (a modstamp column that keeps milliseconds), and the key index. `sfpg check` calls this too,
    /// so it fails on exactly what would fail the run.
    /// - Throws: `PostgresError` `.schema` (table or column missing), `.configuration` (types, key index).
    public static func checkTarget(_ mapping: LoadMapping, _ connection: PostgresConnection) throws {
        _ = try targetPlan(mapping, connection)
    }

    static func targetPlan(_ mapping: LoadMapping, _ connection: PostgresConnection) throws -> LoadPlan {
        let plan = try LoadPlan(mapping: mapping, columnTypes: try columnTypes(of: mapping.table, connection))
        try requireKeyIndex(mapping, connection)
        return plan
    }

    /// The merge's `ON CONFLICT (key)` and the direct first load's duplicate check both rest on a unique index
    /// exactly on the key, checked at once rather than after the whole download: not deferrable (PostgreSQL cannot
    /// use a deferrable one as a conflict arbiter, and a direct COPY would meet a key twice only at COMMIT), not
    /// partial, not on an expression, and valid.
    static func requireKeyIndex(_ mapping: LoadMapping, _ connection: PostgresConnection) throws {
        let found = try connection.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a
                    ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indimmediate AND i.indisvalid
                    AND i.indnkeyatts = 1 AND i.indexprs IS NULL AND i.indpred IS NULL AND a.attname = $2
            ) AS ok
            """, [mapping.table.quoted, mapping.key.column])
        guard found[0, "ok"] != "t" else { return }
        throw PostgresError(
            .configuration,
            "table \(mapping.table) needs a unique, non-deferrable index on exactly its key column \(mapping.key.column) "
                + "(the merge upserts on it): e.g. ALTER TABLE \(mapping.table) ADD PRIMARY KEY (\(SQLIdentifier.quote(mapping.key.column)))")
    }

    /// Target column name → type as `format_type` spells it, so staging rejects a bad value at COPY time.
    static func columnTypes(of table: TableName, _ connection: PostgresConnection) throws -> [String: String] {
        let types = try TableCatalog.columnTypes(of: table, connection)
        if types.isEmpty {
            throw PostgresError(.schema, "target table \(table) does not exist")
        }
        return types
    }

    /// Opens the run's transaction, disables `statement_timeout` for it (a COPY waits on Salesforce), bounds its
    /// lock waits by the connection's `lockTimeout` and creates the temporary staging table, typed like the target's
    /// columns.
    public func begin() throws {
        guard phase == .ready else {
            throw PostgresError(.configuration, "job '\(jobName)': begin() called twice or after the run ended")
        }
        // A resumable run's pages commit one by one; its transaction opens at commit (``openResumableCommit()``).
        if staged != nil {
            phase = .loading
            return
        }
        try connection.execute("BEGIN")
        phase = .loading
        try connection.execute("SET LOCAL statement_timeout = 0")
        // The merge must not wait forever behind another session's lock on the target; see `commit`.
        try connection.limitLockWaits()
        do {
            guard shard == nil else {
                // The other shards of the run write the table meanwhile (their own keys): its emptiness now says
                // nothing about the commit's moment, so a shard neither copies into it nor merges without conflict
                // checks.
                try connection.execute(plan.stagingDDL)
                return
            }
            // Looked at once, here: the locks are held, so no other sfpg run can fill the table before the commit,
            // which merges without conflict checks into a table that was empty.
            targetWasEmpty = try targetIsEmpty()
            if targetWasEmpty, allowsDirectLoad, try fitsDirectLoad() {
                path = .direct
            } else {
                try connection.execute(plan.stagingDDL)
            }
        } catch {
            // Looking into the target waits behind another session's lock on it, as the merge would.
            throw connection.explainingLockTimeout(error, table: mapping.table, jobName: jobName)
        }
    }

    /// Whether ``begin()`` would copy straight into the target if it ran now: for a large run that weighs staging
    /// resumably, which gives that up. Looks in a transaction of its own, with the run's bound on lock waits.
    public func wouldCopyDirectly() throws -> Bool {
        guard shard == nil, allowsDirectLoad, phase == .ready else { return false }
        // Inside a caller's transaction its own BEGIN and COMMIT would end the caller's: look within it instead.
        if connection.isInTransaction { return try targetIsEmpty() && fitsDirectLoad() }
        do {
            return try connection.withTransaction {
                try connection.limitLockWaits()
                return try targetIsEmpty() && fitsDirectLoad()
            }
        } catch {
            throw connection.explainingLockTimeout(error, table: mapping.table, jobName: jobName)
        }
    }

    private func targetIsEmpty() throws -> Bool { try connection.execute(plan.targetIsEmptySQL)[0, "empty"] == "t" }

    private func fitsDirectLoad() throws -> Bool {
        plan.canCopyDirectly(
            syncedAtHasDefault: try connection.execute(
                plan.syncedAtDefaultSQL, [mapping.table.quoted, mapping.syncedAtColumn ?? ""])[0, "has_default"] == "t")
    }

    /// Rolls back without a run-log row (an open page's COPY included): for ``withStagedFallback``, which tries again.
    public func abandon() {
        if let openPage { _ = abort(openPage, because: DirectLoadConflict()) }
        try? store.cleanUp()
        phase = .finished
    }

    /// Runs `attempt` (which calls ``begin()``, loads the pages and commits) on a run from `make`. If that run copied
    /// straight into an empty target and the results held a key twice, it is rolled back and `attempt` runs once
    /// more on a new run that goes through staging. `current` always names the run in progress, so a caller's
    /// failure handling can ``fail(_:status:reconciliation:reason:salesforceJobId:apiCalls:)`` the right one.
    public static func loading<T>(
        _ make: () throws -> LoadRun, current: (LoadRun) -> Void = { _ in }, _ attempt: (LoadRun) throws -> T
    ) throws -> T {
        // Every target here comes from `make`, so each is a LoadRun.
        try withStagedFallback(
            first: try make(),
            staged: {
                let second = try make()
                second.allowsDirectLoad = false
                return second
            },
            current: { current($0 as! LoadRun) }, { try attempt($0 as! LoadRun) })
    }

    /// The staging DDL, COPY and merge SQL this run would execute, for `--dry-run`.
    /// - Parameter fullSweep: whether the run would sweep missing keys (default: a full run does).
    public func previewSQL(fullSweep: Bool? = nil) -> [String] {
        var statements = [plan.stagingDDL + ";", plan.copySQL + ";  -- once per result page", plan.mergeSQL + ";"]
        if fullSweep ?? (syncType == .full), let sweep = try? plan.sweepSQL(within: shard?.range ?? .all) {
            statements.append(sweep + ";  -- full sync of an unfiltered object only, bounded by max_sweep")
        }
        statements.append("-- a first load into an empty table copies each page straight into it instead:\n-- "
            + plan.directCopySQL + ";")
        return statements
    }
}

@available(*, unavailable)
extension LoadRun: Sendable {}

/// A run that sfpg itself refused to commit: the evidence did not prove it complete, or it would have deleted
/// more than allowed. Nothing of it was committed.
public struct RunRefused: Error, CustomStringConvertible, Sendable {
    public var reason: FailureReason
    public var message: String

    public init(_ reason: FailureReason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    public var description: String { message }
}
