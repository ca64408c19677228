import PostgresLoader

/// `sfpg describe --alter` and `--apply`: the design compared with, and applied to, the database.
extension TableDesign {
    /// The `ALTER TABLE` for the columns the existing table lacks and the job lines that map them (both empty when
    /// nothing is missing); nil when the table does not exist.
    public func alterPlan(_ connection: PostgresConnection) throws -> (sql: String, jobLines: [String])? {
        let existing = try TableCatalog.columnTypes(of: table, connection)
        if existing.isEmpty { return nil }
        return alterSQL(existing: Set(existing.keys))
    }

    /// Creates the table if it does not exist.
    public func apply(_ connection: PostgresConnection) throws {
        try connection.executeScript(createTableSQL)
    }
}
