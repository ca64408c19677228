/// What happens to records Salesforce reports as deleted (`IsDeleted = true`) and, on a full sweep, to target
/// rows that Salesforce no longer returns.
public enum DeleteMode: String, Sendable {
    /// Keep the row; set `is_deleted` and `deleted_at`.
    case soft
    /// `DELETE` the row from the target.
    case hard
    /// Load deleted records as they are; never delete or mark anything.
    case ignore
}

/// One Salesforce field (CSV header name) loaded into one target column.
public struct ColumnMapping: Sendable, Hashable {
    /// The CSV header / SOQL field, e.g. `Account.Name`.
    public var source: String
    /// The target column, e.g. `account_name`.
    public var column: String

    public init(source: String, column: String) {
        self.source = source
        self.column = column
    }
}

/// How one Salesforce object's CSV maps onto one PostgreSQL table.
public struct LoadMapping: Sendable {
    public var table: TableName
    /// `Id` → `salesforce_id`; the ON CONFLICT key (the column needs a unique constraint).
    public var key: ColumnMapping
    /// `SystemModstamp` → `system_modstamp`; decides which version of a row wins.
    public var modstamp: ColumnMapping
    /// `IsDeleted` → `is_deleted`; needed for soft and hard deletes of records Salesforce reports deleted.
    public var isDeleted: ColumnMapping?
    /// Every other mapped field, in SOQL order.
    public var columns: [ColumnMapping]
    public var deletes: DeleteMode
    /// Set to `now()` on insert and update, if the target has this column.
    public var syncedAtColumn: String?
    /// Set when a row is soft-deleted and cleared on undelete, if the target has this column.
    public var deletedAtColumn: String?
    /// Record every change the merge makes in `sfpg.changes` (nil: no audit trail).
    public var audit: AuditPolicy? = nil
    /// The most rows one full-sync sweep may delete or mark deleted (`max_sweep`).
    public var maxSweep: SweepLimit = .default

    public init(
        table: TableName,
        key: ColumnMapping = ColumnMapping(source: "Id", column: "salesforce_id"),
        modstamp: ColumnMapping = ColumnMapping(source: "SystemModstamp", column: "system_modstamp"),
        isDeleted: ColumnMapping? = ColumnMapping(source: "IsDeleted", column: "is_deleted"),
        columns: [ColumnMapping],
        deletes: DeleteMode = .soft,
        syncedAtColumn: String? = "synced_at",
        deletedAtColumn: String? = "deleted_at"
    ) {
        self.table = table
        self.key = key
        self.modstamp = modstamp
        self.isDeleted = isDeleted
        self.columns = columns
        self.deletes = deletes
        self.syncedAtColumn = syncedAtColumn
        self.deletedAtColumn = deletedAtColumn
    }

    /// Every mapping in CSV order: key, modstamp, isDeleted (if any), then `columns`.
    public var allMappings: [ColumnMapping] {
        [key, modstamp] + (isDeleted.map { [$0] } ?? []) + columns
    }

    /// The CSV header / SOQL SELECT order: key, modstamp, isDeleted?, columns….
    public var sourceFields: [String] { allMappings.map(\.source) }

    /// The default Contact mapping onto `public.salesforce_contacts` (created by `sql/001`).
    public static let contacts = LoadMapping(
        table: TableName(schema: "public", name: "salesforce_contacts"),
        columns: [
            ColumnMapping(source: "FirstName", column: "first_name"),
            ColumnMapping(source: "LastName", column: "last_name"),
            ColumnMapping(source: "Email", column: "email"),
            ColumnMapping(source: "Phone", column: "phone"),
            ColumnMapping(source: "AccountId", column: "account_id"),
            ColumnMapping(source: "Title", column: "title"),
            ColumnMapping(source: "Department", column: "department"),
            ColumnMapping(source: "CreatedDate", column: "created_date"),
            ColumnMapping(source: "LastModifiedDate", column: "last_modified_date"),
        ])
}

/// The kind of run, recorded in `sfpg.sync_logs.sync_type`.
public enum SyncType: String, Sendable {
    case full, incremental
    /// `sfpg verify --repair` re-reading the windows where drift was found: never moves the watermark (records
    /// outside its windows may still be unread) and never counts as a full sync.
    case repair
}

/// What to do when another run of the same job holds the job's lock.
public enum LockPolicy: Sendable {
    /// Fail at once with `PostgresError` `.lockHeld`.
    case failFast
    /// Block until the other run finishes.
    case wait
}

/// What one merge did.
public struct MergeCounts: Sendable, Equatable {
    /// Rows copied into staging (all pages, duplicates included).
    public var staged: Int
    public var inserted: Int
    public var updated: Int
    /// Distinct staged keys that changed nothing (older or equal modstamp).
    public var unchanged: Int
    /// Rows deleted (hard) or marked deleted (soft), from `IsDeleted` records and the full sweep.
    public var deleted: Int
    /// Of ``deleted``, the rows the full sweep removed (keys the snapshot no longer holds).
    public var swept: Int = 0
    /// The largest staged modstamp, ISO-8601 UTC with millis (`2024-01-15T10:30:00.000Z`); nil if nothing staged.
    public var maxModstamp: String?

    public init(staged: Int = 0, inserted: Int = 0, updated: Int = 0, unchanged: Int = 0, deleted: Int = 0,
                maxModstamp: String? = nil) {
        self.staged = staged
        self.inserted = inserted
        self.updated = updated
        self.unchanged = unchanged
        self.deleted = deleted
        self.maxModstamp = maxModstamp
    }
}

/// The outcome of a committed run.
public struct RunSummary: Sendable {
    /// `sfpg.sync_logs.id` of this run.
    public var runId: Int64
    public var counts: MergeCounts
    public var watermarkBefore: String?
    public var watermarkAfter: String?
    /// The target was empty, so the merge was a plain insert without conflict checks.
    public var intoEmptyTable = false
    /// Whether the pages went through staging or straight into the (empty) target.
    public var path = LoadRun.Path.staged
    /// A shard's commit that was the run's last: it completed the logical run and advanced the watermark.
    public var completedShardRun = false
}
