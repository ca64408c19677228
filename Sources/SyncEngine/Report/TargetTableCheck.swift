import PostgresLoader

/// A job's target table as `sfpg check` sees it: there, with a column for every mapped field, before any run
/// finds out half-way.
public enum TargetTableCheck {
    /// - Returns: a line for the report (the table and how many mapped columns it has).
    /// - Throws: ``SyncError`` (exit 2) naming the missing table, or the missing columns and where the job maps them.
    public static func require(_ job: JobDefinition, _ connection: PostgresConnection) throws -> String {
        let columns = try TableCatalog.columnTypes(of: job.table, connection)
        let table = job.table.displayName
        if columns.isEmpty {
            throw SyncError(
                "\(job.file): table \(table) does not exist; create it with 'sfpg migrate' (from \(job.name).sql "
                    + "beside the job file) or 'sfpg describe \(job.object) --table \(table) --apply'",
                exitStatus: .configuration)
        }
        let missing = job.fields.filter { columns[$0.column] == nil }
        if !missing.isEmpty {
            let named = missing.map { "'\($0.column)' (\($0.source)\($0.line.map { ", line \($0)" } ?? ""))" }
            throw SyncError(
                "\(job.file): table \(table) has no column \(named.joined(separator: ", ")); add "
                    + "\(missing.count == 1 ? "it" : "them") ('sfpg describe \(job.object) --table \(table) --alter' "
                    + "prints the ALTER TABLE) or change the mapping",
                exitStatus: .configuration)
        }
        return "\(table) has a column for each of the \(job.fields.count) mapped fields"
    }
}
