import PostgresLoader

/// One declarative sync job: which Salesforce object goes into which PostgreSQL table, field by field.
///
/// Parsed from `jobs/<name>.yaml` (see `JobDefinition.parse(yaml:name:file:)`); every value has been validated, so a
/// job that exists can be run. The job-file key of each property is named in its comment; `loadAll(directory:)`
/// also checks the files of a directory against each other (`checkIdentity(_:directory:)`).
public struct JobDefinition: Sendable {
    /// The job's name: the file name without `.yaml`/`.yml`. Keys the watermark, the run log and the advisory lock,
    /// so two files of one directory may not give the same name.
    public var name: String
    /// Where the job came from, for messages.
    public var file: String
    /// The Salesforce object's API name, e.g. `Contact`.
    public var object: String
    /// The target table (`table`), possibly schema-qualified. Two jobs of one directory may load the same table only
    /// when both declare that they share it (a `where:` filter and `sweep: false` in each).
    public var table: TableName
    /// Salesforce API name → column, in file order. Relationship fields such as `Account.Name` are allowed.
    public var fields: [FieldMapping]
    /// The record key (default `Id`); must be one of `fields`.
    public var key: String
    /// The field whose largest loaded value is the watermark (default `SystemModstamp`); must be one of `fields`.
    public var watermark: String
    /// What a Salesforce delete does to the table.
    public var deletes: DeleteMode
    /// An extra SOQL condition (`where`). A filtered job never sweeps missing keys as deleted on a full sync, since
    /// a key can leave the filter without being deleted.
    public var whereClause: String?
    /// Bulk API `maxRecords` per result page; nil lets Salesforce choose.
    public var pageSize: Int?
    /// How far back an incremental run re-reads before the watermark, to catch records whose transaction committed
    /// after an earlier run read past their SystemModstamp.
    public var overlapSeconds: Int
    /// What a mapped field that no longer exists in Salesforce does to a run (`on_missing_field`).
    public var onMissingField: MissingFieldPolicy = .fail
    /// Re-read the calculated (formula) fields this often (`refresh_calculated`); nil never does.
    public var refreshCalculatedSeconds: Int? = nil
    /// Verify the table against Salesforce's counts this often (`verify: 24h`); nil never asks for it. `sfpg status`
    /// reports a verify as due once this long has passed since the last one.
    public var verifySeconds: Int? = nil
    /// Record every change in `sfpg.changes` (`audit: true`).
    public var audit: Bool = false
    /// Keep audit rows this long (`audit_retention`); nil keeps them forever.
    public var auditRetentionSeconds: Int? = nil
    /// Whether a full sync may treat keys missing from its result as deleted (`sweep: true|false`, default true).
    /// `false` is how a job says the table holds rows it does not own: jobs that share one table must say it, or
    /// each full sync would mark the other jobs' rows deleted.
    public var sweep: Bool = true
    /// The most rows one full-sync sweep may delete or mark deleted (`max_sweep: 10%` of the live rows, or
    /// `max_sweep: 5000` rows; default 10%). A sweep past it fails the run unchanged: a sharing or permission change
    /// that hides records looks exactly like a mass delete.
    public var maxSweep: SweepLimit = .default
    /// `split`: how many Bulk query jobs a full run reads the object with, over disjoint `Id` ranges that together
    /// cover every Id (see ``SplitRanges``). They run concurrently on Salesforce and load into the one run. Incremental
    /// runs read with one job whatever this says.
    public var split: Int = 1
    /// `api_budget`: the most of each of the org's daily allowances (API requests, Bulk query jobs, result storage)
    /// a run may take the org's usage to, as a fraction; nil: no budget (see ``ApiBudget``).
    public var apiBudget: Double? = nil
    public static let maxSplit = 16
    /// `fields_per_query`: read the object in parts of at most this many fields besides the key and modstamp, one
    /// Bulk job each, joined on the key (a wide object); nil reads it whole unless Salesforce refuses the query.
    public var fieldsPerQuery: Int? = nil
    /// `deletes_check`: an incremental run of a `deletes: soft|hard` job asks Salesforce for hard deletes (getDeleted,
    /// else a key sweep) when the last check covered up to at least this many seconds before the run's snapshot;
    /// 0 (the default) on every incremental run, nil (`off`) never.
    public var deletesCheckSeconds: Int? = 0
    /// `stream: true`: `sfpg serve` keeps the table current within seconds by applying the object's Change Data
    /// Capture events (``StreamApplier``); batch runs stay the backbone and own the watermark.
    public var stream: Bool = false
    /// `schedule` and `full_schedule`: when `sfpg serve` starts an incremental and a full run of the job (5-field
    /// cron, UTC); nil: never on its own.
    public var schedule: CronSchedule? = nil
    public var fullSchedule: CronSchedule? = nil

    public struct FieldMapping: Sendable, Equatable {
        public var source: String
        public var column: String
        /// 1-based line of the mapping in the job file, so drift errors can point at it.
        public var line: Int?
    }

    /// The field that marks a soft delete in `queryAll` results.
    public static let isDeletedField = "IsDeleted"

    /// The loader's view of this job.
    public var loadMapping: LoadMapping {
        func mapping(_ source: String) -> ColumnMapping? {
            fields.first { $0.source.caseInsensitiveEquals(source) }.map { ColumnMapping(source: $0.source, column: $0.column) }
        }
        let special = [key, watermark, Self.isDeletedField]
        let others = fields.filter { field in !special.contains { field.source.caseInsensitiveEquals($0) } }
        var mapping = LoadMapping(
            table: table,
            key: mapping(key)!,  // validated at parse time
            modstamp: mapping(watermark)!,
            isDeleted: mapping(Self.isDeletedField),
            columns: others.map { ColumnMapping(source: $0.source, column: $0.column) },
            deletes: deletes
        )
        mapping.audit = audit ? AuditPolicy(retentionSeconds: auditRetentionSeconds) : nil
        mapping.maxSweep = maxSweep
        return mapping
    }

    /// True when a full sync sees every record of the object and the table holds nothing else, so keys missing from
    /// it were deleted: not with a `where:` filter (a key can leave the filter without being deleted), not with
    /// `sweep: false` (the table has rows the job does not own), not with `deletes: ignore`.
    public var sweepsOnFullSync: Bool { sweep && whereClause == nil && deletes != .ignore }
}

/// `on_missing_field`: fail the run (default) or leave the field's column as it is and load the rest.
public enum MissingFieldPolicy: String, Sendable {
    case fail, skip
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        self.lowercased() == other.lowercased()
    }
}
