import Foundation

/// What ``Migrator/migrate(_:jobTables:)`` did: migrations recorded as superseded, migrations applied, job DDL files run.
public struct MigrationOutcome: Sendable, Equatable {
    public var superseded: [String]
    public var applied: [String]
    public var jobTables: [String]
}

/// `sfpg migrate`'s job-driven part: a job's target table comes from `<job>.sql` beside `<job>.yaml` in the jobs
/// directory, applied for the jobs that are there and no others.
///
/// Until now migration 002 created `public.salesforce_accounts` and `public.salesforce_opportunities` in every
/// database. Migration files stay immutable, and databases that applied 002 keep its tables (they may hold data,
/// and `sfpg.schema_migrations` records only names), so on a database sfpg migrates for the first time 002 is
/// recorded as superseded instead of run; `jobs/accounts.sql` and `jobs/opportunities.sql` hold the same DDL. The
/// contacts table stays in 001: it is the seed's table and 001 also creates sfpg's own tables.
extension Migrator {
    public static let supersededOnFreshDatabases = ["002_default_account_opportunity_tables.sql"]

    /// Under the migrate lock: the 002 rule on a fresh database, every pending migration, then each job DDL file
    /// in `jobTables` (paths of idempotent `<job>.sql` files, run on every migrate).
    /// - Throws: `PostgresError` `.configuration` for a file that cannot be read, `.schema` naming the migration or
    ///   file that failed (it is rolled back).
    public static func migrate(_ connection: PostgresConnection, jobTables: [String]) throws -> MigrationOutcome {
        try withMigrateLock(connection) {
            let superseded = try supersedeOnFreshDatabase(connection)
            let applied = try migrate(connection)
            try applyJobTables(jobTables, connection: connection)
            return MigrationOutcome(superseded: superseded, applied: applied, jobTables: jobTables)
        }
    }

    /// Runs `body` holding the migrate lock (session-level advisory locks nest, so `migrate` may take it again).
    static func withMigrateLock<T>(_ connection: PostgresConnection, _ body: () throws -> T) throws -> T {
        try connection.execute(lockSQL)
        defer { _ = try? connection.execute(unlockSQL) }
        return try body()
    }

    /// On a database with no applied migration, records ``supersededOnFreshDatabases`` as applied without running
    /// them. Returns the names so recorded (empty on any database sfpg migrated before). Under the migrate lock.
    static func supersedeOnFreshDatabase(_ connection: PostgresConnection) throws -> [String] {
        let known = try connection.execute("SELECT to_regclass('sfpg.schema_migrations') IS NOT NULL AS present")
        if known[0, "present"] == "t" {
            let rows = try connection.execute("SELECT count(*) AS n FROM sfpg.schema_migrations")
            if rows[0, "n"] != "0" { return [] }
        }
        try connection.withTransaction {
            try connection.executeScript(
                """
                CREATE SCHEMA IF NOT EXISTS sfpg;
                CREATE TABLE IF NOT EXISTS sfpg.schema_migrations (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """)
            for name in supersededOnFreshDatabases {
                try connection.execute(
                    "INSERT INTO sfpg.schema_migrations (name) VALUES ($1) ON CONFLICT DO NOTHING", [name])
            }
        }
        return supersededOnFreshDatabases
    }

    /// Applies each job's DDL in its own transaction. The files must be idempotent (`CREATE TABLE IF NOT EXISTS`).
    static func applyJobTables(_ files: [String], connection: PostgresConnection) throws {
        for file in files {
            guard let sql = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw PostgresError(.configuration, "cannot read \(file)", hint: "Check the file's permissions.")
            }
            try applyInTransaction(sql, named: "job table DDL \(file)", connection)
        }
    }

    /// Runs `script` and then `record` in one transaction.
    /// - Throws: `PostgresError` `.schema` (`.connection` when the connection was lost) saying "`label` failed", after
    ///   rolling back.
    static func applyInTransaction(
        _ script: String, named label: String, _ connection: PostgresConnection, record: () throws -> Void = {}
    ) throws {
        do {
            try connection.withTransaction {
                try connection.executeScript(script)
                try record()
            }
        } catch let error as PostgresError {
            var wrapped = error
            wrapped.code = error.code == .connection ? .connection : .schema
            wrapped.message = "\(label) failed: \(error.message)"
            throw wrapped
        }
    }
}
