import Foundation
import PostgresLoader

/// Reads target tables back in the text form the Bulk API CSV uses, to compare them with the emulator's truth,
/// and fingerprints tables to prove that a failed run changed nothing.
public enum TestSyncTables {
    /// The rows of `table` keyed by `keyColumn`, each value rendered as the emulator's truth renders it:
    /// timestamptz as `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC), booleans `true`/`false`, dates `YYYY-MM-DD`, NULL as nil.
    public static func rows(
        _ connection: PostgresConnection, table: String, keyColumn: String, columns: [String]
    ) throws -> [String: [String?]] {
        let (schema, name) = split(table)
        let types = try connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
            [schema, name])
        var typeOf: [String: String] = [:]
        for row in types.rows { typeOf[row[0] ?? ""] = row[1] ?? "" }
        let expressions = columns.map { column -> String in
            let quoted = SQLIdentifier.quote(column)
            switch typeOf[column] ?? "text" {
            case "timestamp with time zone":
                return "to_char(\(quoted) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            case "boolean": return "CASE WHEN \(quoted) THEN 'true' WHEN NOT \(quoted) THEN 'false' END"
            case "date": return "to_char(\(quoted), 'YYYY-MM-DD')"
            default: return "\(quoted)::text"
            }
        }
        let result = try connection.execute(
            "SELECT \(SQLIdentifier.quote(keyColumn))::text, \(expressions.joined(separator: ", ")) FROM "
                + "\(SQLIdentifier.quote(schema)).\(SQLIdentifier.quote(name))")
        var rows: [String: [String?]] = [:]
        for row in result.rows { rows[row[0] ?? ""] = Array(row.dropFirst()) }
        return rows
    }

    /// Differences between `expected` (truth rows whose first value is the key) and `actual` (from ``rows``),
    /// as readable lines; empty when equal. Numbers compare by value (`12.50` = `12.5`), text ignores NUL bytes
    /// (PostgreSQL cannot store them; the loader drops them) and `""` equals NULL (the loader's FORCE_NULL).
    public static func differences(
        expected: [[String?]], actual: [String: [String?]], fields: [String], limit: Int = 10
    ) -> [String] {
        var problems: [String] = []
        var seen = Set<String>()
        for row in expected {
            guard let key = row.first ?? nil else { continue }
            seen.insert(key)
            guard let got = actual[key] else {
                problems.append("\(key): missing from the table")
                continue
            }
            for (index, field) in fields.enumerated() where index < row.count && index < got.count {
                if !same(row[index], got[index]) {
                    problems.append("\(key).\(field): expected \(String(reflecting: row[index])), table has \(String(reflecting: got[index]))")
                }
            }
            if problems.count >= limit { return problems }
        }
        for key in actual.keys where !seen.contains(key) {
            problems.append("\(key): in the table but not expected")
            if problems.count >= limit { break }
        }
        return problems
    }

    static func same(_ expected: String?, _ actual: String?) -> Bool {
        let e = expected.map { $0.replacingOccurrences(of: "\u{0}", with: "") }.flatMap { $0.isEmpty ? nil : $0 }
        let a = actual.flatMap { $0.isEmpty ? nil : $0 }
        if e == a { return true }
        guard let e, let a, let de = Decimal(string: e, locale: Locale(identifier: "en_US_POSIX")),
            let da = Decimal(string: a, locale: Locale(identifier: "en_US_POSIX")),
            e.allSatisfy({ "0123456789.-+eE".contains($0) }), a.allSatisfy({ "0123456789.-+eE".contains($0) })
        else { return false }
        return de == da
    }

    /// Row count and an md5 over every row of each table (in key order), for before/after comparisons.
    /// Missing tables fingerprint as "absent".
    public static func fingerprint(_ connection: PostgresConnection, tables: [String]) -> [String: String] {
        var prints: [String: String] = [:]
        for table in tables {
            let (schema, name) = split(table)
            let qualified = "\(SQLIdentifier.quote(schema)).\(SQLIdentifier.quote(name))"
            let sql = "SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-') FROM \(qualified) AS t"
            prints[table] = (try? connection.execute(sql))?.rows.first?.first.flatMap { $0 } ?? "absent"
        }
        return prints
    }

    private static func split(_ table: String) -> (String, String) {
        let parts = table.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : ("public", parts[0])
    }
}
