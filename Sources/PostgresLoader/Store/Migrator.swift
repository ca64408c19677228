/// One numbered schema file of `sql/`, embedded in the binary.
public struct Migration: Sendable {
    /// The file name, e.g. `001_initial_schema.sql`; recorded in `sfpg.schema_migrations`.
    public var name: String
    public var sql: String

    public init(name: String, sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// Applies the embedded `sql/` migrations in order, each once, recording them in `sfpg.schema_migrations`.
public enum Migrator {
    /// Two concurrent `migrate`s serialize on this lock. The single-bigint key space never overlaps the
    /// two-int4 key space the per-job locks use.
    static let lockSQL = "SELECT pg_advisory_lock(hashtextextended('sfpg.migrate', 0))"
    static let unlockSQL = "SELECT pg_advisory_unlock(hashtextextended('sfpg.migrate', 0))"

    /// Applies every pending migration, each in its own transaction.
    /// - Returns: the names applied now (empty if the schema was up to date).
    /// - Throws: `PostgresError` `.schema` naming the migration that failed (it is rolled back).
    @discardableResult
    public static func migrate(_ connection: PostgresConnection) throws -> [String] {
        try connection.execute(lockSQL)
        defer { _ = try? connection.execute(unlockSQL) }
        try connection.executeScript(
            """
            CREATE SCHEMA IF NOT EXISTS sfpg;
            CREATE TABLE IF NOT EXISTS sfpg.schema_migrations (
                name text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """)
        let applied = try appliedNames(connection)
        var appliedNow: [String] = []
        for migration in migrations where !applied.contains(migration.name) {
            try applyInTransaction(migration.sql, named: "migration \(migration.name)", connection) {
                try connection.execute("INSERT INTO sfpg.schema_migrations (name) VALUES ($1)", [migration.name])
            }
            appliedNow.append(migration.name)
        }
        return appliedNow
    }

    /// The names of embedded migrations the database has not applied yet, in order.
    public static func pendingMigrations(_ connection: PostgresConnection) throws -> [String] {
        let exists = try connection.execute("SELECT to_regclass('sfpg.schema_migrations') IS NOT NULL AS present")
        let applied: Set<String> = exists[0, "present"] == "t" ? try appliedNames(connection) : []
        return migrations.map(\.name).filter { !applied.contains($0) }
    }

    private static func appliedNames(_ connection: PostgresConnection) throws -> Set<String> {
        let result = try connection.execute("SELECT name FROM sfpg.schema_migrations")
        return Set(result.rows.compactMap { $0.first ?? nil })
    }
}
