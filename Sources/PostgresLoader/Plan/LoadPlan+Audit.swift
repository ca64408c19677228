import Foundation

/// A job's field-level audit trail: one `sfpg.changes` row per record a run changes.
public struct AuditPolicy: Sendable, Hashable {
    /// Rows older than this are pruned at the end of each run; nil keeps them forever.
    public var retentionSeconds: Int?

    public init(retentionSeconds: Int? = nil) {
        self.retentionSeconds = retentionSeconds
    }
}

/// The audit SQL: old and new values are compared set-based, from staging joined to the target, before the merge
/// statement overwrites the old ones, in the run's transaction.
extension LoadPlan {
    static let auditStaging = "pg_temp." + SQLIdentifier.quote("sfpg_audit")

    /// Columns whose changes are recorded: every mapped one but the key (the row's identity) and the modstamp
    /// (recorded on its own; it moving alone is not a change of the mapped values).
    var auditedColumns: [String] {
        mapping.allMappings.map(\.column).filter { $0 != mapping.key.column && $0 != mapping.modstamp.column }
    }

    /// `{"column": {"old": …, "new": …}}` over the columns where `old(column)` and `new(column)` (jsonb
    /// expressions) differ; NULL when none do.
    func changesExpression(old: (String) -> String, new: (String) -> String) -> String {
        let values = auditedColumns.map { column in
            "(\(SQLLiteral.quote(column)), \(old(column)), \(new(column)))"
        }
        guard !values.isEmpty else { return "NULL::jsonb" }
        return """
            (SELECT jsonb_object_agg(c.name, jsonb_build_object('old', c.old, 'new', c.new))
                FROM (VALUES \(values.joined(separator: ", "))) AS c(name, old, new)
                WHERE c.old IS DISTINCT FROM c.new)
            """
    }

    /// Creates the run's audit scratch table from the staged rows the merge is about to change: inserts, newer
    /// versions, deletes and undeletes. A newer version that changes no mapped value records nothing.
    var auditCaptureSQL: String {
        let key = SQLIdentifier.quote(mapping.key.column)
        let modstamp = SQLIdentifier.quote(mapping.modstamp.column)
        let flag = mapping.isDeleted.map { "src." + SQLIdentifier.quote($0.column) }
        let oldFlag = mapping.isDeleted.map { "t." + SQLIdentifier.quote($0.column) }
        let removed = (mapping.deletes == .hard ? flag.map { "(\($0) IS TRUE)" } : nil) ?? "false"
        var operation = "CASE WHEN t.\(key) IS NULL THEN 'insert'"
        if mapping.deletes == .hard, flag != nil {
            operation += " WHEN \(removed) THEN 'delete'"
        } else if mapping.deletes == .soft, let flag, let oldFlag {
            operation += " WHEN \(flag) IS TRUE AND \(oldFlag) IS NOT TRUE THEN 'delete'"
            operation += " WHEN \(flag) IS NOT TRUE AND \(oldFlag) IS TRUE THEN 'undelete'"
        }
        operation += " ELSE 'update' END"
        let changes = changesExpression(
            old: { "to_jsonb(t.\(SQLIdentifier.quote($0)))" },
            new: { "CASE WHEN \(removed) THEN NULL ELSE to_jsonb(src.\(SQLIdentifier.quote($0))) END" })
        // The same conditions as the merge's: insert a new key (unless it arrives deleted for a hard-delete job),
        // update when strictly newer, hard-delete when not older.
        let replaced = "t.\(key) IS NULL OR \(replaces(stored: "t", incoming: "src"))"
        let changed = mapping.deletes == .hard && flag != nil
            ? "(\(removed) AND (t.\(modstamp) IS NULL OR src.\(modstamp) IS NULL OR t.\(modstamp) <= src.\(modstamp))) "
                + "OR (NOT \(removed) AND (\(replaced)))"
            : replaced
        return """
            CREATE TEMP TABLE \(Self.auditStaging) ON COMMIT DROP AS
            WITH src AS (
                SELECT DISTINCT ON (\(key)) \(stagedSelectList) FROM \(staging)
                ORDER BY \(key), \(modstamp) DESC NULLS LAST
            ), candidates AS (
                SELECT src.\(key)::text AS record_key, src.\(modstamp)::timestamptz AS system_modstamp,
                    \(operation) AS operation, \(changes) AS changes
                FROM src LEFT JOIN \(mapping.table.quoted) AS t ON t.\(key) = src.\(key)
                WHERE \(changed)
            )
            SELECT * FROM candidates WHERE changes IS NOT NULL
            """
    }

    /// Adds the rows a full sweep (of `range`, bounds `$1`, `$2`) is about to delete (or mark deleted) to the audit
    /// scratch table; `gone` judges other rows instead (see ``sweepSQL(within:gone:deletedAt:)``).
    func auditSweepSQL(within range: KeyRange = .all, gone: String? = nil) -> String? {
        let key = SQLIdentifier.quote(mapping.key.column)
        let modstamp = SQLIdentifier.quote(mapping.modstamp.column)
        let missing = gone ?? missingFromStaging(within: range)
        switch mapping.deletes {
        case .ignore:
            return nil
        case .hard:
            let changes = changesExpression(old: { "to_jsonb(t.\(SQLIdentifier.quote($0)))" }, new: { _ in "NULL::jsonb" })
            return """
                INSERT INTO \(Self.auditStaging) (record_key, system_modstamp, operation, changes)
                SELECT t.\(key)::text, t.\(modstamp), 'delete', coalesce(\(changes), '{}'::jsonb)
                FROM \(mapping.table.quoted) AS t WHERE \(missing)
                """
        case .soft:
            guard let isDeleted = mapping.isDeleted.map({ SQLIdentifier.quote($0.column) }) else { return nil }
            let name = SQLLiteral.quote(mapping.isDeleted!.column)
            return """
                INSERT INTO \(Self.auditStaging) (record_key, system_modstamp, operation, changes)
                SELECT t.\(key)::text, t.\(modstamp), 'delete',
                    jsonb_build_object(\(name), jsonb_build_object('old', to_jsonb(t.\(isDeleted)), 'new', true))
                FROM \(mapping.table.quoted) AS t WHERE t.\(isDeleted) IS NOT TRUE AND \(missing)
                """
        }
    }
}
