import Foundation
import PostgresLoader
import Testing
import TestSupport

/// The production `sfpg` binary: lean (no emulator, no benchmark code; SwiftNIO only for `sfpg serve`), self-describing (`--version`),
/// honest help texts, and a `migrate` that creates only sfpg's schema and the given jobs' tables.
@Suite("CLI: the production binary", .serialized)
struct ProductionBinaryTests {
    static let root = TestBinaries.repositoryRoot

    /// Runs a tool to completion (nm on a debug binary takes a while under load).
    static func output(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try TestSyncProcess.run(executable, arguments, timeout: .seconds(120))
    }

    /// Module names that must not appear in any symbol of `sfpg` (Swift mangles the module name into each symbol).
    /// (SwiftNIO came in with `sfpg serve`'s HTTP endpoints, issue #20.)
    static let forbiddenModules = ["SalesforceEmulator", "sfpg_bench", "sfpg_emulator"]

    @Test("the sfpg executable links no emulator and no benchmark code (nm)")
    func noEmulatorSymbols() throws {
        var checked = 0
        // Every build of sfpg there is: the debug one the tests run, and a release one if it was built.
        let release = try? TestBinaries.binPath(configuration: "release")
        for path in [try TestBinaries.binPath() + "/sfpg"] + (release.map { [$0 + "/sfpg"] } ?? [])
        where FileManager.default.isExecutableFile(atPath: path) {
            let (status, symbols, _) = try Self.output("/usr/bin/nm", ["--defined-only", path])
            try #require(status == 0, "nm \(path) failed")
            let hasOwnSymbols = symbols.contains("10SyncEngine")  // the module name, as Swift mangles it
            #expect(hasOwnSymbols, "nm \(path) shows no SyncEngine symbols: is it stripped?")
            let lines = symbols.split(separator: "\n")
            for module in Self.forbiddenModules {
                let hits = lines.filter { $0.contains(module) }
                #expect(hits.isEmpty, "\(path) contains \(hits.count) symbols of \(module), e.g. \(hits.prefix(2))")
            }
            checked += 1
        }
        #expect(checked >= 1, "no built sfpg executable in \((try? TestBinaries.binPath()) ?? "the bin path")")
    }

    @Test("sfpg --version prints the version and the commit it was built from")
    func version() throws {
        let (status, stdout, _) = try Self.output(try TestBinaries.path("sfpg"), ["--version"])
        #expect(status == 0)
        let line = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.range(of: #"^sfpg \d+\.\d+\.\d+ \(commit [A-Za-z0-9._-]+\)$"#, options: .regularExpression) != nil, "\(line)")
    }

    /// Every `--flag` a command's help mentions is one of that command's options (or a global one).
    @Test("help texts name flags as they are spelled", arguments: ["", "run", "migrate", "check", "status", "plan", "verify", "describe", "history", "serve", "demo"])
    func helpNamesRealFlags(_ command: String) throws {
        let arguments = (command.isEmpty ? [] : [command]) + ["--help"]
        let (status, help, _) = try Self.output(try TestBinaries.path("sfpg"), arguments)
        #expect(status == 0)
        let defined = Set(help.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop(while: { $0 == " " })
            let option = trimmed.hasPrefix("-") && !trimmed.hasPrefix("--") ? trimmed.drop(while: { $0 != " " }).dropFirst() : trimmed
            guard option.hasPrefix("--") else { return nil }
            return String(option.prefix(while: { $0 != " " && $0 != "," && $0 != "=" }))
        })
        let mentioned = try NSRegularExpression(pattern: #"--[a-z][a-z-]*[a-z]"#)
            .matches(in: help, range: NSRange(help.startIndex..., in: help))
            .compactMap { Range($0.range, in: help).map { String(help[$0]) } }
        // The root command lists subcommands, not their flags; there only global flags count, and the exit-code
        // table's advice (exit 7: `sfpg verify JOB --repair`).
        let undefined = Set(mentioned).subtracting(defined).subtracting(command.isEmpty ? [] : ["--version"])
        if command.isEmpty {
            #expect(undefined.isEmpty || undefined.isSubset(of: ["--database-url", "--jobs-directory", "--repair"]), "\(undefined)")
        } else {
            #expect(undefined.isEmpty, "sfpg \(command) --help mentions \(undefined.sorted()), which it does not define")
        }
    }

    @Test("sfpg has no emulator or bench-load command; sfpg-emulator and sfpg-bench are their own executables")
    func toolsMoved() throws {
        #expect(try Self.output(try TestBinaries.path("sfpg"), ["emulator"]).status == 64)
        #expect(try Self.output(try TestBinaries.path("sfpg"), ["bench-load"]).status == 64)
        #expect(try Self.output(try TestBinaries.path("sfpg-emulator"), ["--help"]).status == 0)
        #expect(try Self.output(try TestBinaries.path("sfpg-bench"), ["load", "--help"]).status == 0)
    }

    static func tables(_ connection: PostgresConnection) throws -> Set<String> {
        let result = try connection.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables WHERE table_schema IN ('public', 'sfpg')")
        return Set(result.rows.compactMap { $0.first ?? nil })
    }

    @Test("migrate on a new database creates sfpg's schema, the contacts table and only the given jobs' tables")
    func migrateCreatesOnlyGivenJobTables() throws {
        let jobs = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-jobs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: jobs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: jobs) }
        for name in ["contacts.yaml", "accounts.yaml", "accounts.sql"] {
            try FileManager.default.copyItem(atPath: Self.root + "/jobs/" + name, toPath: jobs + "/" + name)
        }
        let conninfo = try TestPostgres.makeDatabase()
        for _ in 0..<2 {  // idempotent
            let result = try TestSyncProcess.run(
                ["migrate", "--jobs-directory", jobs, "--database-url", conninfo], environment: [:])
            #expect(result.status == 0, "\(result.stderr)")
        }
        let connection = try PostgresConnection(conninfo, applicationName: "sfpg-tests")
        let tables = try Self.tables(connection)
        #expect(tables.isSuperset(of: ["sfpg.sync_state", "sfpg.sync_logs", "sfpg.changes", "public.salesforce_contacts",
                                       "public.salesforce_accounts"]), "\(tables)")
        #expect(!tables.contains("public.salesforce_opportunities"), "\(tables)")
        #expect(try Migrator.pendingMigrations(connection).isEmpty)

        // A job added later gets its table from the next migrate.
        for name in ["opportunities.yaml", "opportunities.sql"] {
            try FileManager.default.copyItem(atPath: Self.root + "/jobs/" + name, toPath: jobs + "/" + name)
        }
        let again = try TestSyncProcess.run(["migrate", "--jobs-directory", jobs, "--database-url", conninfo], environment: [:])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.tables(connection).contains("public.salesforce_opportunities"))
    }

    @Test("migrate on a database that applied 002 before keeps its tables and changes nothing")
    func migrateKeepsExistingDatabases() throws {
        let (conninfo, connection) = try TestPostgres.makeMigratedDatabase()  // every migration, 002 included
        try connection.execute(
            "INSERT INTO public.salesforce_accounts (salesforce_id, name, system_modstamp) VALUES ('001000000000001AAA', 'Acme', now())")
        let result = try TestSyncProcess.run(
            ["migrate", "--jobs-directory", "/nonexistent-\(UUID().uuidString)", "--database-url", conninfo], environment: [:])
        #expect(result.status == 2, "an explicit missing jobs directory is a configuration error: \(result.stderr)")
        let plain = try TestSyncProcess.run(["migrate", "--database-url", conninfo], environment: [:])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("schema is current"), "\(plain.stdout)")
        #expect(try connection.execute("SELECT count(*) FROM public.salesforce_accounts").rows.first?.first == "1")
        #expect(try Self.tables(connection).contains("public.salesforce_opportunities"))
    }
}
