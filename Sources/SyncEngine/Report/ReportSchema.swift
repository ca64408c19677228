import PostgresLoader

/// The reports read sfpg's own tables; on a database `sfpg migrate` has not prepared, they say what to do (exit 2,
/// like `sfpg run`) instead of passing on the server's "relation … does not exist".
enum ReportSchema {
    /// undefined_table, undefined_column, invalid_schema_name.
    static let missingObjectStates: Set<String> = ["42P01", "42703", "3F000"]

    static func reading<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as PostgresError where missingObjectStates.contains(error.sqlState ?? "") {
            throw SyncError(
                "this database has no sfpg schema, or an older one (\(error.message)); run 'sfpg migrate' against it first",
                exitStatus: .configuration)
        }
    }
}
