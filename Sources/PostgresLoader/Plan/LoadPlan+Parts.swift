/// The SQL of a run that reads a wide object in parts (several Bulk jobs, each the key, the modstamp and some of
/// the fields): one temporary table per part, the keys whose parts disagree, and the join into staging.
extension LoadPlan {
    static func partTable(_ part: Int) -> String { "pg_temp." + SQLIdentifier.quote("sfpg_part_\(part)") }

    /// The mappings of `fields`, in their order (the part's CSV header).
    func partMappings(_ fields: [String]) -> [ColumnMapping] {
        fields.compactMap { field in mapping.allMappings.first { $0.source.lowercased() == field.lowercased() } }
    }

    func partDDL(_ part: Int, fields: [String]) -> String {
        let definitions = partMappings(fields).map { "\(q($0.column)) \(stagingType($0.column))" }
        return "CREATE TEMP TABLE IF NOT EXISTS \(Self.partTable(part)) (\(definitions.joined(separator: ", "))) ON COMMIT DROP"
    }

    func partCopySQL(_ part: Int, fields: [String]) -> String {
        let columns = partMappings(fields).map { q($0.column) }.joined(separator: ", ")
        return "COPY \(Self.partTable(part)) (\(columns)) FROM STDIN WITH (FORMAT csv, FORCE_NULL (\(columns)))"
    }

    /// Keys that are not in every part exactly once with one modstamp: created, deleted or changed between the
    /// parts' snapshots (or delivered twice). Result column: key (text).
    func partMismatchSQL(parts: Int) -> String {
        let union = (1...parts).map { "SELECT \(key) AS k, \(modstamp) AS m FROM \(Self.partTable($0))" }
        return """
            SELECT k::text AS key FROM (\(union.joined(separator: " UNION ALL "))) AS u GROUP BY k
            HAVING count(*) <> \(parts) OR min(m) <> max(m) OR count(m) NOT IN (0, \(parts))
            """
    }

    /// Removes `$1` (a text[] of keys) from one part before they are read again.
    func partForgetSQL(_ part: Int) -> String {
        "DELETE FROM \(Self.partTable(part)) WHERE \(key)::text = ANY($1::text[])"
    }

    /// One staged row per key from its parts (which agree by now): the key and modstamp from the first part, every
    /// other column from the part that read it. Result column: n (rows staged).
    func joinPartsSQL(_ parts: [[String]]) -> String {
        var sources: [String: String] = [:]
        for (k, fields) in parts.enumerated() {
            for column in partMappings(fields).map(\.column) where sources[column] == nil { sources[column] = "p\(k + 1)" }
        }
        let columns = mapping.allMappings.map(\.column).filter { sources[$0] != nil }
        let joins = parts.indices.dropFirst().map { $0 + 1 }.map {
            " JOIN \(Self.partTable($0)) AS p\($0) ON p\($0).\(key) = p1.\(key)"
        }
        return """
            WITH ins AS (
                INSERT INTO \(staging) (\(columns.map(q).joined(separator: ", ")))
                SELECT \(columns.map { "\(sources[$0]!).\(q($0))" }.joined(separator: ", "))
                FROM \(Self.partTable(1)) AS p1\(joins.joined())
                RETURNING 1
            )
            SELECT count(*) AS n FROM ins
            """
    }
}
