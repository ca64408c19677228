import Foundation
import PostgresLoader
import Testing
import TestSupport

/// The `sfpg` process dumps no core, and warns (without the password) when `--database-url` carries one.
@Suite("CLI: process hardening", .serialized)
struct CLIProcessHardeningTests {
    @Test("a running sfpg process has a core file size limit of 0")
    func noCoreDumps() throws {
        // `sfpg migrate` waits for the migration lock another session holds: a production process that stays up.
        let base = try TestPostgres.makeDatabase()
        let holder = try PostgresConnection(base)
        try holder.execute("SELECT pg_advisory_lock(hashtextextended('sfpg.migrate', 0))")
        let waiting = try TestSyncProcess(try TestBinaries.path("sfpg"), ["migrate", "--database-url", base], environment: [:])
        defer {
            _ = try? holder.execute("SELECT pg_advisory_unlock(hashtextextended('sfpg.migrate', 0))")
            waiting.wait(timeout: .seconds(20))
        }
        #expect(E2EFixture.waitUntil {
            (try? holder.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                    + "WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database() "
                    + "AND a.application_name = 'sfpg'").rows.first?.first) == "1"
        })
        let limits = try String(contentsOfFile: "/proc/\(waiting.pid)/limits", encoding: .utf8)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") }.map(String.init) ?? ""
        let values = core.dropFirst("Max core file size".count).split(separator: " ").map(String.init)
        #expect(values.prefix(2) == ["0", "0"], "\(core)")
    }

    @Test("--database-url with a password logs one warning that names no part of it")
    func passwordOnTheCommandLineIsWarnedAbout() throws {
        let base = try TestPostgres.makeDatabase()
        let password = "Cmdline-Pw-4711"
        // The test cluster trusts every connection, so the password is carried but not checked.
        let withPassword = try PostgresConnection.conninfo(base, overriding: ["password": password])
        let warned = try TestSyncProcess.run(["migrate", "--database-url", withPassword], environment: [:])
        #expect(warned.status == 0, "\(warned.stderr)")
        #expect(warned.stderr.components(separatedBy: "contains a password").count == 2, "\(warned.stderr)")
        #expect(warned.stderr.contains("PGPASSWORD") && warned.stderr.contains("DATABASE_URL"))
        #expect(!(warned.stdout + warned.stderr).contains(password))

        let quiet = try TestSyncProcess.run(["migrate", "--database-url", base], environment: [:])
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("contains a password"), "\(quiet.stderr)")
        // The same password from the environment is not on the command line: no warning.
        let fromEnvironment = try TestSyncProcess.run(["migrate"], environment: ["DATABASE_URL": withPassword])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        #expect(!fromEnvironment.stderr.contains("contains a password"))
        #expect(PostgresConnection.containsPassword("postgresql://u:pw@db.invalid/x"))
        #expect(PostgresConnection.containsPassword("postgresql://u:p%t@db.invalid/x"))
        #expect(!PostgresConnection.containsPassword("postgresql://u@db.invalid/x"))
        #expect(!PostgresConnection.containsPassword("mydb"))
    }
}
