import PostgresLoader

/// Refuses to sync into a database whose sfpg schema is missing or behind this binary.
public enum SchemaCheck {
    public static func requireCurrent(_ connection: PostgresConnection) throws {
        let pending = try Migrator.pendingMigrations(connection)
        if !pending.isEmpty {
            throw SyncError(
                "the sfpg schema is not current (pending: \(pending.joined(separator: ", "))); run 'sfpg migrate' first",
                reason: .schema
            )
        }
    }
}
