/// The job-specific SQL of one load, generated in one place from a ``LoadMapping`` and the target table's
/// column types. Every identifier is quoted; values are never spliced in.
struct LoadPlan: Sendable {
    static let temporaryStaging = "pg_temp." + SQLIdentifier.quote("sfpg_staging")
    /// Where the pages are staged: the run's temporary table, or a resumable run's UNLOGGED table in `sfpg_stage`
    /// (``resumableStagingDDL``), which outlives the session so a killed run's pages need not be read again.
    var staging = Self.temporaryStaging
    static let isoFormat = #"'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'"#

    let mapping: LoadMapping
    /// Target column → `format_type` spelling, e.g. `character varying(18)`.
    let columnTypes: [String: String]
    let hasSyncedAt: Bool
    let hasDeletedAt: Bool

    /// - Throws: `PostgresError` `.schema` when a mapped column is missing from the target,
    ///   `.configuration` when two fields map to one column.
    init(mapping: LoadMapping, columnTypes: [String: String]) throws {
        self.mapping = mapping
        self.columnTypes = columnTypes
        let columns = mapping.allMappings.map(\.column)
        let missing = columns.filter { columnTypes[$0] == nil }
        if !missing.isEmpty {
            throw PostgresError(
                .schema,
                "table \(mapping.table) has no column(s) \(missing.joined(separator: ", ")); add them or fix the job's mapping")
        }
        if Set(columns).count != columns.count {
            throw PostgresError(.configuration, "two fields of the mapping for \(mapping.table) load the same column")
        }
        let extra = [mapping.syncedAtColumn, mapping.deletedAtColumn].compactMap { $0 }
        if let clash = extra.first(where: { columns.contains($0) }) {
            throw PostgresError(.configuration, "column \(clash) of \(mapping.table) is both mapped and maintained by sfpg")
        }
        hasSyncedAt = mapping.syncedAtColumn.map { columnTypes[$0] != nil } ?? false
        hasDeletedAt = mapping.deletedAtColumn.map { columnTypes[$0] != nil } ?? false
        let modstampType = columnTypes[mapping.modstamp.column] ?? ""
        guard modstampType.hasPrefix("timestamp") else {
            throw PostgresError(
                .configuration,
                "column \(mapping.modstamp.column) of \(mapping.table) holds the watermark field \(mapping.modstamp.source) "
                    + "but is \(modstampType); make it timestamptz (timestamp without time zone is read as UTC)")
        }
        modstampIsLocal = !modstampType.hasSuffix("with time zone")
        if let digits = Self.fractionalDigits(modstampType), digits < 3 {
            // Salesforce stamps to the millisecond. Rounded to coarser steps, two versions within one step compare
            // equal, and the merge (which replaces only a newer version) would keep the older one for good.
            throw PostgresError(
                .configuration,
                "column \(mapping.modstamp.column) of \(mapping.table) holds \(mapping.modstamp.source) as \(modstampType), "
                    + "which rounds Salesforce's milliseconds away; make it timestamptz(3) or plain timestamptz")
        }
    }

    /// The declared fractional-second digits of a `timestamp(p)` type; nil for the default (microseconds).
    static func fractionalDigits(_ type: String) -> Int? {
        guard let open = type.firstIndex(of: "("), let close = type.firstIndex(of: ")"), open < close else { return nil }
        return Int(type[type.index(after: open)..<close])
    }

    /// The modstamp column is `timestamp` (without time zone): its values are UTC wall-clock times.
    let modstampIsLocal: Bool

    /// `column` (a modstamp value, e.g. `max("system_modstamp")`) as a timestamptz, whatever the column's type: a
    /// `timestamp` column holds UTC by sfpg's convention, so it is converted explicitly rather than by a cast
    /// that reads it in the session's time zone.
    func modstampInstant(_ expression: String) -> String {
        modstampIsLocal ? "(\(expression) AT TIME ZONE 'UTC')" : expression
    }

    func q(_ name: String) -> String { SQLIdentifier.quote(name) }
    var table: String { mapping.table.quoted }
    var key: String { q(mapping.key.column) }
    var modstamp: String { q(mapping.modstamp.column) }
    var columnList: String { mapping.allMappings.map { q($0.column) }.joined(separator: ", ") }
    /// Soft deletes of `IsDeleted` records need both the flag in the CSV and somewhere to record it.
    var softDeletesFromCSV: Bool { mapping.deletes == .soft && mapping.isDeleted != nil }
    var maintainsDeletedAt: Bool { softDeletesFromCSV && hasDeletedAt }

    /// The Salesforce field loaded into `column`, for error messages.
    func field(forColumn column: String) -> String? {
        mapping.allMappings.first { $0.column == column }?.source
    }

    var stagingDDL: String { "CREATE TEMP TABLE \(staging) (\(stagingColumns)) ON COMMIT DROP" }

    /// A resumable run's staging table (`table`, quoted), created once and kept across sessions until its commit.
    func resumableStagingDDL(_ table: String) -> String {
        "CREATE UNLOGGED TABLE IF NOT EXISTS \(table) (\(stagingColumns))"
    }

    var stagingColumns: String {
        mapping.allMappings.map { "\(q($0.column)) \(stagingType($0.column))" }.joined(separator: ", ")
    }

    /// Columns in CSV order; FORCE_NULL turns `""` into NULL like an empty field (the Bulk API writes both).
    var copySQL: String {
        "COPY \(staging) (\(columnList)) FROM STDIN WITH (FORMAT csv, FORCE_NULL (\(columnList)))"
    }

    /// One statement: newest version per key, hard deletes, upsert guarded by modstamp, and the counts.
    /// Result columns: distinct_rows, inserted, updated, deleted.
    var mergeSQL: String { merge(intoEmptyTable: false) }

    /// Whether the merge finds each staged row's stored version through the key index (``merge``'s `lookUpStored`)
    /// rather than hashing the whole target: when the run staged far fewer rows than the target holds (an
    /// incremental run). Comparing every column needs the stored rows whole, and hashing a million of them (about
    /// 400 MB) to compare 100,000 took 2.2 s where 100,000 index lookups took 1.1 s (README, "Benchmarks"). A full
    /// run keeps the hash join: a lookup per row would be random reads on a table larger than memory.
    static func looksUpStoredRows(staged: Int, stored: Int) -> Bool { staged * 4 < stored }

    /// `intoEmptyTable`: no row can conflict (see ``firstLoadMergeSQL``), so the insert skips ON CONFLICT.
    /// - Parameters:
    ///   - intoEmptyTable: a plain INSERT (see ``firstLoadMergeSQL``).
    ///   - deduplicate: keep the newest row per key (a `DISTINCT ON` sort of the whole staging table). Without it
    ///     (staging holds each key once, ``stagedDuplicateKeysSQL``) staging is read as it is and `distinct_rows` is
    ///     NULL: the caller knows the staged count.
    ///   - lookUpStored: find stored rows through the key index instead of a join that may hash the target
    ///     (``looksUpStoredRows(staged:stored:)``).
    func merge(intoEmptyTable: Bool, deduplicate: Bool = true, lookUpStored: Bool = false) -> String {
        let isDeleted = mapping.isDeleted.map { "src." + q($0.column) }
        let (insertColumns, insertValues, updates) = upsertLists(isDeleted: isDeleted)
        var sql = deduplicate
            ? """
            WITH src AS (
                SELECT DISTINCT ON (\(key)) \(stagedSelectList) FROM \(staging)
                ORDER BY \(key), \(modstamp) DESC NULLS LAST
            )
            """
            : """
            WITH src AS (
                SELECT \(stagedSelectList) FROM \(staging)
            )
            """
        var filters: [String] = []
        var deletedCount = "0"
        if mapping.deletes == .hard, let isDeleted {
            sql += """
                , del AS (
                    DELETE FROM \(table) AS t USING src
                    WHERE t.\(key) = src.\(key) AND \(isDeleted)
                        AND (t.\(modstamp) IS NULL OR src.\(modstamp) IS NULL OR t.\(modstamp) <= src.\(modstamp))
                    RETURNING 1
                )
                """
            filters.append("\(isDeleted) IS NOT TRUE")
            deletedCount = "(SELECT count(*) FROM del)"
        }
        var source = "src"
        if !intoEmptyTable {
            // Only rows the upsert would change reach it. ON CONFLICT alone probes the key index and row-locks every
            // stored row, changed or not (a full re-sync with 10% changed locked the other 90% for nothing); a hash
            // join against the target drops the unchanged ones first. Measured on 200k rows, 10% changed, with the
            // merge's work_mem: 1.5–1.7 s → 0.7–1.0 s. The ON CONFLICT clause stays for rows that appear meanwhile.
            // OFFSET 0 keeps the planner from flattening the lookup back into a join that may hash the target.
            source += lookUpStored
                ? " LEFT JOIN LATERAL (SELECT * FROM \(table) AS one WHERE one.\(key) = src.\(key) OFFSET 0) AS stored ON true"
                : " LEFT JOIN \(table) AS stored ON stored.\(key) = src.\(key)"
            filters.append("(stored.\(key) IS NULL OR \(replaces(stored: "stored", incoming: "src")))")
        }
        let upsertFilter = filters.isEmpty ? "" : "\nWHERE " + filters.joined(separator: " AND ")
        let returnedDeleted = softDeletesFromCSV ? "coalesce(t.\(q(mapping.isDeleted!.column)), false)" : "false"
        sql += """
            , up AS (
                INSERT INTO \(table) AS t (\(insertColumns.joined(separator: ", ")))
                SELECT \(insertValues.joined(separator: ", ")) FROM \(source)\(upsertFilter)\(
                    intoEmptyTable ? "" : conflictClause(updates: updates, hasFilter: !upsertFilter.isEmpty))
                RETURNING (t.xmax = 0) AS inserted, \(returnedDeleted) AS deleted
            )
            SELECT \(deduplicate ? "(SELECT count(*) FROM src)" : "NULL::bigint") AS distinct_rows,
                (SELECT count(*) FROM up WHERE inserted AND NOT deleted) AS inserted,
                (SELECT count(*) FROM up WHERE NOT inserted AND NOT deleted) AS updated,
                (SELECT count(*) FROM up WHERE deleted) + \(deletedCount) AS deleted
            """
        return sql
    }

    /// The upsert's insert columns and values and its `DO UPDATE` assignments: the mapped columns, plus `synced_at`
    /// and `deleted_at` where sfpg maintains them.
    func upsertLists(isDeleted: String?) -> (columns: [String], values: [String], updates: [String]) {
        var columns = mapping.allMappings.map { q($0.column) }
        var values = mapping.allMappings.map { "src." + q($0.column) }
        var updates = (mapping.allMappings.dropFirst()).map { "\(q($0.column)) = EXCLUDED.\(q($0.column))" }
        if let synced = mapping.syncedAtColumn, hasSyncedAt {
            columns.append(q(synced))
            values.append("now()")
            updates.append("\(q(synced)) = now()")
        }
        if let deletedAt = mapping.deletedAtColumn, maintainsDeletedAt, let isDeleted {
            columns.append(q(deletedAt))
            values.append("CASE WHEN \(isDeleted) THEN now() END")
            // Keep the first deletion time; an undelete (flag back to false) clears it.
            updates.append(
                "\(q(deletedAt)) = CASE WHEN EXCLUDED.\(q(mapping.isDeleted!.column)) "
                    + "THEN coalesce(t.\(q(deletedAt)), EXCLUDED.\(q(deletedAt))) END")
        }
        if mapping.deletes == .soft, mapping.isDeleted == nil, hasDeletedAt, let deletedAt = mapping.deletedAtColumn {
            // Only a sweep sets it here; a row returned again is live again.
            updates.append("\(q(deletedAt)) = NULL")
        }
        return (columns, values, updates)
    }

    /// Rows of staging whose modstamp lies more than `$1` seconds after the database's clock: a watermark taken
    /// from them would stop incremental runs until that date. Result columns: key, modstamp (ISO-8601 UTC).
    func futureModstampsSQL(in relation: String) -> String {
        let instant = modstampInstant(modstamp)
        return """
            SELECT \(key)::text AS key, to_char(\(instant) AT TIME ZONE 'UTC', \(Self.isoFormat)) AS modstamp
            FROM \(relation) WHERE \(instant) > now() + make_interval(secs => $1::float8)
            ORDER BY \(modstamp) DESC LIMIT 5
            """
    }

    /// When the merge replaces a stored row: a newer version, a stored row without a modstamp (it could never be
    /// updated again otherwise), an incoming one without (Salesforce's current answer is all there is), or a row
    /// sfpg marked deleted that Salesforce returned again live — a swept row comes back whatever its modstamp,
    /// since a record hidden from the integration user and shown again keeps its old SystemModstamp.
    func replaces(stored t: String, incoming src: String) -> String {
        var conditions = [
            "\(t).\(modstamp) IS NULL", "\(src).\(modstamp) IS NULL", "\(t).\(modstamp) < \(src).\(modstamp)",
        ]
        if let revive = revives(stored: t, incoming: src) { conditions.append(revive) }
        if let differs = sameVersionDiffers(stored: t, incoming: src) { conditions.append(differs) }
        return "(" + conditions.joined(separator: " OR ") + ")"
    }

    /// The same version of the record (equal modstamps) with another value in some mapped column: a field the job
    /// gained since the row was loaded, a formula whose value moved without touching the record, or a value edited
    /// in PostgreSQL behind sfpg's back. Salesforce's answer is the truth for its version, so the row is rewritten;
    /// an older version still never overwrites a newer one. Nil when only the key and the modstamp are mapped.
    func sameVersionDiffers(stored t: String, incoming src: String) -> String? {
        columnsDiffer(stored: t, incoming: src).map { "(\(t).\(modstamp) = \(src).\(modstamp) AND \($0))" }
    }

    /// Some mapped column other than the key and the modstamp (``auditedColumns``) holds another value in `t` than
    /// in `src`; nil when there is no such column.
    func columnsDiffer(stored t: String, incoming src: String) -> String? {
        guard !auditedColumns.isEmpty else { return nil }
        func row(_ alias: String) -> String {
            "ROW(" + auditedColumns.map { comparable("\(alias).\(q($0))", column: $0) }.joined(separator: ", ") + ")"
        }
        return "\(row(t)) IS DISTINCT FROM \(row(src))"
    }

    /// `expression` in a form that has an equality operator: types without one (json, xml, geometric types) are
    /// compared as text.
    func comparable(_ expression: String, column: String) -> String {
        let type = (columnTypes[column] ?? "").lowercased()
        let withoutEquality = ["json", "xml", "point", "line", "lseg", "box", "path", "polygon", "circle"]
        let base = type.replacingOccurrences(of: "[]", with: "")
        return withoutEquality.contains(base) ? "\(expression)::text" : expression
    }

    /// The stored row is marked deleted and the incoming version is live; nil when sfpg never marks rows.
    func revives(stored t: String, incoming src: String) -> String? {
        guard mapping.deletes == .soft else { return nil }
        if let isDeleted = mapping.isDeleted.map({ q($0.column) }) {
            return "(\(t).\(isDeleted) IS TRUE AND \(src).\(isDeleted) IS NOT TRUE)"
        }
        if hasDeletedAt, let deletedAt = mapping.deletedAtColumn {
            return "\(t).\(q(deletedAt)) IS NOT NULL"
        }
        return nil
    }

    /// Target rows a full sweep may judge: the live ones (all rows for hard deletes), within `range` (its bounds are
    /// `$1`, `$2`: ``KeyRange/parameters``). Result column: live.
    func liveRowsSQL(within range: KeyRange = .all) -> String {
        let conditions = [liveCondition, rangeCondition(range)].compactMap { $0 }
        return "SELECT count(*) AS live FROM \(table) AS t"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
    }

    /// A shard's range on the target's key (`t`), parameters from `$1`; nil for the whole table.
    func rangeCondition(_ range: KeyRange) -> String? {
        range.sqlCondition(column: "t.\(key)", firstParameter: 1)
    }

    /// The condition for a live target row under soft deletes; nil when every row counts.
    var liveCondition: String? {
        guard mapping.deletes == .soft else { return nil }
        if let isDeleted = mapping.isDeleted { return "t.\(q(isDeleted.column)) IS NOT TRUE" }
        if hasDeletedAt, let deletedAt = mapping.deletedAtColumn { return "t.\(q(deletedAt)) IS NULL" }
        return nil
    }

    /// Target rows (`t`) of `range` whose key was not staged: what a full sweep judges (bounds `$1`, `$2`).
    /// `relation` holds the keys Salesforce has: staging, or a key sweep's keys (``sweptKeys``).
    func missingFromStaging(within range: KeyRange, relation: String? = nil) -> String {
        "NOT EXISTS (SELECT 1 FROM \(relation ?? staging) AS s WHERE s.\(key) = t.\(key))"
            + (rangeCondition(range).map { " AND \($0)" } ?? "")
    }

    /// The full sweep: target rows whose key was not staged are deleted or marked deleted. Nil for `.ignore`.
    /// A shard sweeps only its `range` (bounds `$1`, `$2`: ``KeyRange/parameters``): rows outside it belong to
    /// another shard, whose keys this shard never staged.
    /// `gone` judges other rows instead (a deletes check's, ``LoadPlan/listedAsDeleted``), `deletedAt` dates them.
    /// - Throws: `.configuration` for soft deletes on a table with neither the is-deleted nor deleted-at column.
    func sweepSQL(within range: KeyRange = .all, gone: String? = nil, deletedAt: String = "now()") throws -> String? {
        let missing = gone ?? missingFromStaging(within: range)
        switch mapping.deletes {
        case .ignore:
            return nil
        case .hard:
            return "DELETE FROM \(table) AS t WHERE \(missing)"
        case .soft:
            let deletedAtValue = deletedAt
            var sets: [String] = []
            guard let notYet = liveCondition else {
                throw PostgresError(
                    .configuration,
                    "soft deletes on \(mapping.table) need an is-deleted mapping or a deleted-at column")
            }
            if let isDeleted = mapping.isDeleted {
                sets.append("\(q(isDeleted.column)) = true")
                if hasDeletedAt, let deletedAt = mapping.deletedAtColumn {
                    sets.append("\(q(deletedAt)) = coalesce(t.\(q(deletedAt)), \(deletedAtValue))")
                }
            } else if hasDeletedAt, let deletedAt = mapping.deletedAtColumn {
                sets.append("\(q(deletedAt)) = \(deletedAtValue)")
            } else {
                throw PostgresError(
                    .configuration,
                    "soft deletes on \(mapping.table) need an is-deleted mapping or a deleted-at column")
            }
            if hasSyncedAt, let synced = mapping.syncedAtColumn { sets.append("\(q(synced)) = now()") }
            return "UPDATE \(table) AS t SET \(sets.joined(separator: ", ")) WHERE \(notYet) AND \(missing)"
        }
    }
}
