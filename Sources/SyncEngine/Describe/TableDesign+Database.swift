import PostgresLoader

/// `sfpg describe --alter` and `--apply`: the design compared with, and applied to, the database.
extension TableDesign {
    /// What ``apply(_:)`` did.
    public enum ApplyResult: Sendable, Equatable {
        /// The table was created (from ``checkApply(_:)``: would be).
        case created
        /// The table was there with every designed column, of the designed type; nothing changed.
        case alreadyPresent
    }

    /// The `ALTER TABLE` for the columns the existing table lacks and the job lines that map them (both empty when
    /// nothing is missing), executed in one transaction when `apply`; nil when the table does not exist.
    public func alterPlan(
        _ connection: PostgresConnection, apply: Bool = false
    ) throws -> (sql: String, jobLines: [String])? {
        let existing = try TableCatalog.columnTypes(of: table, connection)
        if existing.isEmpty { return nil }
        let plan = alterSQL(existing: Set(existing.keys))
        if apply, !plan.sql.isEmpty { try connection.withTransaction { try connection.executeScript(plan.sql) } }
        return plan
    }

    /// Creates the schema (if the table names one) and the table in one transaction; an existing table is accepted
    /// only when it has every designed column with its type.
    /// - Throws: ``SyncError`` (exit 2) saying what differs when the existing table has another shape; nothing
    ///   is changed then.
    public func apply(_ connection: PostgresConnection) throws -> ApplyResult {
        let result = try checkApply(connection)
        if result == .created { try connection.withTransaction { try connection.executeScript(ddl) } }
        return result
    }

    /// What ``apply(_:)`` would do, changing nothing: `--apply` checks this before it writes any file.
    /// - Throws: ``SyncError`` (exit 2) when the existing table has another shape.
    public func checkApply(_ connection: PostgresConnection) throws -> ApplyResult {
        let existing = try TableCatalog.columnTypes(of: table, connection)
        if existing.isEmpty { return .created }
        let differences = try self.differences(from: existing, connection)
        guard differences.isEmpty else {
            throw SyncError(
                "table \(table.displayName) already exists with another shape: \(differences.joined(separator: "; ")). "
                    + "Nothing was changed. 'sfpg describe \(object) --table \(table.displayName) --alter' prints the "
                    + "ALTER TABLE for missing columns; a column of another type needs your decision (ALTER COLUMN … "
                    + "TYPE, or another --table).",
                exitStatus: .configuration)
        }
        return .alreadyPresent
    }

    /// How `existing` (column → type) differs from the design, one phrase per column.
    func differences(from existing: [String: String], _ connection: PostgresConnection) throws -> [String] {
        let designed = try designedTypes(connection)
        return columns.compactMap { column in
            guard let type = existing[column.column] else { return "no column \(column.column)" }
            guard let wanted = designed[column.column], wanted != type else { return nil }
            return "\(column.column) is \(type), the design makes it \(wanted)"
        }
    }

    /// The designed columns' types as PostgreSQL spells them (`varchar(18)` is `character varying(18)`): the design
    /// is created as a temporary table in a transaction that is rolled back.
    func designedTypes(_ connection: PostgresConnection) throws -> [String: String] {
        var probe = self
        probe.table = TableName(schema: "pg_temp", name: "sfpg_describe_probe")
        try connection.execute("BEGIN")
        defer { _ = try? connection.execute("ROLLBACK") }
        try connection.executeScript(probe.createTableSQL)
        return try TableCatalog.columnTypes(of: probe.table, connection)
    }
}
