import Foundation
import PostgresLoader

/// Where job files live when no `--jobs-directory` is given: `$SFPG_JOBS_DIR` (the container image sets
/// `/etc/sfpg/jobs`), else `jobs` in the working directory.
enum JobsDirectory {
    static var defaultPath: String {
        Settings.process.jobsDirectory
    }

    static let help = "Directory of job files (default: $SFPG_JOBS_DIR, else ./jobs)."
}

/// `sfpg migrate`'s job-driven part: a job's target table comes from `<job>.sql` beside `<job>.yaml` in the jobs
/// directory, applied for the jobs that are there and no others.
///
/// Until now migration 002 created `public.salesforce_accounts` and `public.salesforce_opportunities` in every
/// database. Migration files stay immutable, and databases that applied 002 keep its tables (they may hold data,
/// and `sfpg.schema_migrations` records only names), so on a database sfpg migrates for the first time 002 is
/// recorded as superseded instead of run; `jobs/accounts.sql` and `jobs/opportunities.sql` hold the same DDL. The
/// contacts table stays in 001: it is the seed's table and 001 also creates sfpg's own tables.
enum JobTables {
    static let supersededOnFreshDatabases = ["002_default_account_opportunity_tables.sql"]

    /// The migrate lock of `Migrator` (session-level advisory locks nest, so `Migrator.migrate` may take it again).
    static let lockSQL = "SELECT pg_advisory_lock(hashtextextended('sfpg.migrate', 0))"
    static let unlockSQL = "SELECT pg_advisory_unlock(hashtextextended('sfpg.migrate', 0))"

    /// Runs `body` holding the migrate lock.
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
        try connection.execute("BEGIN")
        do {
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
            try connection.execute("COMMIT")
        } catch {
            _ = try? connection.execute("ROLLBACK")
            throw error
        }
        return supersededOnFreshDatabases
    }

    /// The `<job>.sql` files of the jobs in `directory` (one per `*.yaml`/`*.yml` that has one), sorted.
    /// A missing directory is an error only when `required` (it was given explicitly).
    static func ddlFiles(in directory: String, required: Bool) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            if required {
                throw PostgresError(.configuration, "cannot read the jobs directory '\(directory)'",
                                    hint: "Pass --jobs-directory DIR (or set SFPG_JOBS_DIR).")
            }
            return []
        }
        let set = Set(names)
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .map { ($0 as NSString).deletingPathExtension + ".sql" }
            .filter { set.contains($0) }
            .sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Applies each job's DDL in its own transaction. The files must be idempotent (`CREATE TABLE IF NOT EXISTS`):
    /// they run on every migrate.
    static func apply(_ files: [String], connection: PostgresConnection) throws {
        for file in files {
            guard let sql = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw PostgresError(.configuration, "cannot read \(file)")
            }
            do {
                try connection.execute("BEGIN")
                try connection.executeScript(sql)
                try connection.execute("COMMIT")
            } catch let error as PostgresError {
                _ = try? connection.execute("ROLLBACK")
                var wrapped = error
                wrapped.code = error.code == .connection ? .connection : .schema
                wrapped.message = "job table DDL \(file) failed: \(error.message)"
                throw wrapped
            }
        }
    }
}
