/// What the system catalog says about a table sfpg writes.
public enum TableCatalog {
    /// Column name → type as `format_type` spells it (`numeric`, `character varying(18)`); empty when the table does
    /// not exist.
    public static func columnTypes(of table: TableName, _ connection: PostgresConnection) throws -> [String: String] {
        let result = try connection.execute(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            """, [table.quoted])
        var types: [String: String] = [:]
        for row in result.rows {
            if let name = row[0], let type = row[1] { types[name] = type }
        }
        return types
    }
}
