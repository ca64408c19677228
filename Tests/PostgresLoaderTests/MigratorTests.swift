import Foundation
import PostgresLoader
import Synchronization
import Testing
import TestSupport

@Suite struct MigratorTests {
    @Test func migrateTwiceIsANoOp() throws {
        let conninfo = try TestPostgres.makeDatabase()
        let connection = try PostgresConnection(conninfo)
        #expect(try Migrator.pendingMigrations(connection) == Migrator.migrations.map(\.name))
        #expect(try Migrator.migrate(connection) == Migrator.migrations.map(\.name))
        #expect(try Migrator.migrate(connection) == [])
        #expect(try Migrator.pendingMigrations(connection) == [])
        let columns = try connection.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'sfpg' AND table_name = 'sync_logs'")
        let names = Set(columns.rows.compactMap { $0[0] })
        for seedColumn in ["id", "sync_type", "records_processed", "records_inserted", "records_updated", "errors",
                           "started_at", "completed_at", "status", "error_message", "records_deleted",
                           "records_unchanged", "watermark_before", "watermark_after", "salesforce_job_id",
                           "api_calls_used", "job_name", "object_name"] {
            #expect(names.contains(seedColumn), "sync_logs lacks \(seedColumn)")
        }
    }

    @Test func migrationsAreIdempotentSQL() throws {
        let connection = try PostgresConnection(try TestPostgres.makeDatabase())
        for migration in Migrator.migrations {
            try connection.executeScript(migration.sql)
            try connection.executeScript(migration.sql)
        }
    }

    @Test func concurrentMigratesAreSafe() throws {
        let conninfo = try TestPostgres.makeDatabase()
        let outcomes = Mutex<[Result<[String], any Error>]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            let outcome = Result<[String], any Error> { try Migrator.migrate(try PostgresConnection(conninfo)) }
            outcomes.withLock { $0.append(outcome) }
        }
        let applied = try outcomes.withLock { try $0.map { try $0.get() } }
        #expect(applied.flatMap { $0 }.sorted() == Migrator.migrations.map(\.name).sorted())
    }

    @Test func embeddedSQLMatchesTheSQLDirectory() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let directory = root.appendingPathComponent("sql")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == Migrator.migrations.map(\.name), "run scripts/embed-sql")
        for migration in Migrator.migrations {
            let text = try String(contentsOf: directory.appendingPathComponent(migration.name), encoding: .utf8)
            #expect(migration.sql + "\n" == text, "\(migration.name) is stale: run scripts/embed-sql")
        }
    }
}
