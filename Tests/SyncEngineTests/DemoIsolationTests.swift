import Foundation
import PostgresLoader
import Testing
import TestSupport

/// `sfpg demo` writes like a real run, so it must never reach a database through the environment, and an explicit
/// `--database-url` must hold nothing it could damage.
@Suite("CLI: demo isolation", .serialized)
struct DemoIsolationTests {
    /// A migrated database that looks like production: a watermark, a run log and real Contacts.
    static func occupiedDatabase() throws -> (conninfo: String, connection: PostgresConnection) {
        let (conninfo, connection) = try TestPostgres.makeMigratedDatabase()
        try connection.execute(
            """
            INSERT INTO sfpg.sync_state (job_name, object_name, target_table, watermark)
            VALUES ('contacts', 'Contact', '"public"."salesforce_contacts"', '2024-01-15T10:30:00Z')
            """)
        try connection.execute(
            "INSERT INTO sfpg.sync_logs (sync_type, status, job_name, records_processed) VALUES ('full', 'success', 'contacts', 3)")
        try connection.execute(
            """
            INSERT INTO public.salesforce_contacts (salesforce_id, first_name, last_name, email, system_modstamp)
            VALUES ('003000000000001AAA', 'Ada', 'Lovelace', 'ada@example.com', '2024-01-15T10:00:00Z'),
                   ('003000000000002AAA', 'Grace', 'Hopper', 'grace@example.com', '2024-01-15T10:10:00Z'),
                   ('003000000000003AAA', 'Edsger', 'Dijkstra', NULL, '2024-01-15T10:30:00Z')
            """)
        return (conninfo, connection)
    }

    /// Every table sfpg or the demo could write, plus the list of relations (a created table shows too).
    static func fingerprint(_ connection: PostgresConnection) throws -> [String: String] {
        var prints = TestSyncTables.fingerprint(
            connection,
            tables: [
                "public.salesforce_contacts", "public.salesforce_accounts", "public.salesforce_opportunities",
                "sfpg.sync_state", "sfpg.sync_logs", "sfpg.changes", "sfpg.schema_migrations",
            ])
        let relations = try connection.execute(
            """
            SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY n.nspname, c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
            """)
        prints["relations"] = relations.rows.first?.first ?? nil
        return prints
    }

    /// The `key='value'` pairs of a conninfo as `PostgresConnection.conninfo(_:overriding:)` writes it.
    static func parameters(_ conninfo: String) throws -> [String: String] {
        let pattern = try NSRegularExpression(pattern: #"(\w+)='((?:[^'\\]|\\.)*)'"#)
        var result: [String: String] = [:]
        let range = NSRange(conninfo.startIndex..., in: conninfo)
        for match in pattern.matches(in: conninfo, range: range) {
            guard let key = Range(match.range(at: 1), in: conninfo), let value = Range(match.range(at: 2), in: conninfo)
            else { continue }
            result[String(conninfo[key])] = String(conninfo[value])
        }
        return result
    }

    static func demo(_ arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestSyncProcess.run(["demo", "--contacts", "200"] + arguments, environment: environment, timeout: .seconds(240))
    }

    enum Pointer: String, CaseIterable {
        /// DATABASE_URL and the PG* variables all name the database.
        case databaseURLAndPG
        /// Only PG* variables, one of which (PGOPTIONS) would make any session it reaches read-only.
        case pgOnly
    }

    @Test(
        "the demo ignores DATABASE_URL and PG*: the database they name is unchanged, the demo runs on its own cluster",
        arguments: Pointer.allCases)
    func environmentIsIgnored(_ pointer: Pointer) throws {
        let (conninfo, connection) = try Self.occupiedDatabase()
        let parts = try Self.parameters(conninfo)
        var environment = [
            "PGHOST": try #require(parts["host"]), "PGPORT": try #require(parts["port"]),
            "PGDATABASE": try #require(parts["dbname"]), "PGUSER": try #require(parts["user"]),
        ]
        switch pointer {
        case .databaseURLAndPG: environment["DATABASE_URL"] = conninfo
        case .pgOnly: environment["PGOPTIONS"] = "-c default_transaction_read_only=on"
        }
        let before = try Self.fingerprint(connection)
        let result = try Self.demo([], environment: environment)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("throwaway PostgreSQL started"), "\(result.stdout)")
        #expect(result.stdout.contains("ignoring") && result.stdout.contains("PGHOST"), "\(result.stdout)")
        #expect(!result.stdout.contains(parts["dbname"] ?? "?"), "a variable's value was printed")
        #expect(result.stdout.contains("== full sync (sweeps purged records) =="), "\(result.stdout)")
        #expect(try Self.fingerprint(connection) == before)
    }

    @Test(
        "--database-url naming a database with sfpg state or Contacts exits 2 and changes nothing",
        arguments: ["state and contacts", "contacts only"])
    func occupiedDatabaseIsRefused(_ occupied: String) throws {
        let conninfo: String
        let connection: PostgresConnection
        if occupied == "contacts only" {
            // No sfpg schema at all: the Contacts alone are worth protecting.
            conninfo = try TestPostgres.makeDatabase()
            connection = try PostgresConnection(conninfo, applicationName: "sfpg-tests")
            try connection.execute(
                "CREATE TABLE public.salesforce_contacts (salesforce_id varchar(18) PRIMARY KEY, system_modstamp timestamptz)")
            try connection.execute("INSERT INTO public.salesforce_contacts VALUES ('003000000000001AAA', now())")
        } else {
            (conninfo, connection) = try Self.occupiedDatabase()
        }
        let before = try Self.fingerprint(connection)
        let result = try Self.demo(["--database-url", conninfo], environment: [:])
        #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("refusing"), "\(result.stderr)")
        #expect(result.stderr.contains("public.salesforce_contacts"), "\(result.stderr)")
        #expect(result.stderr.contains("without --database-url"), "\(result.stderr)")
        if occupied != "contacts only" { #expect(result.stderr.contains("sfpg.sync_state"), "\(result.stderr)") }
        #expect(try Self.fingerprint(connection) == before)
    }

    @Test("--database-url naming an empty migrated database runs the demo there")
    func emptyDatabaseIsAccepted() throws {
        let (conninfo, connection) = try TestPostgres.makeMigratedDatabase()
        let result = try Self.demo(["--database-url", conninfo], environment: [:])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(!result.stdout.contains("throwaway PostgreSQL started"), "\(result.stdout)")
        let runs = try connection.execute(
            "SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'contacts' AND status = 'success'")
        #expect(runs.rows.first?.first == "3")
        let rows = try connection.execute("SELECT count(*) FROM public.salesforce_contacts")
        #expect(Int((rows.rows.first?.first ?? nil) ?? "") ?? 0 >= 200)
    }
}
