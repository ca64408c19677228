import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Issue #10: with distinctive secret values in every input the CLI reads (Salesforce: env, key file; PostgreSQL:
/// URL flag, DATABASE_URL, PGPASSWORD, .pgpass), nothing secret (credentials, the JWT key and assertions, issued
/// access tokens, rotated refresh tokens, database passwords) reaches stdout, stderr, the `sfpg.*` tables or spool
/// files, at `--log-level trace` in both log formats, from run, check, describe, status, migrate, history and demo,
/// in good runs and failing ones (wrong password, 401, 5xx, a malformed database URL, SIGTERM mid-download).
@Suite("Secrets stay out of output, tables and spool files", .serialized, .timeLimit(.minutes(10)))
struct SecretsTests {
    /// Distinctive values: any of them (or the password with the token appended) in any output is a leak.
    static let password = "Pw-SECRET-4f1c9a77"
    static let securityToken = "Tok-SECRET-77ab0e"
    static let clientSecret = "Cs-SECRET-0d9e31b5"
    static let refreshToken = "Rt-SECRET-5b2c8e11"
    static let wrongPassword = "Wrong-SECRET-93d1f0"

    /// What was seen, and the secrets to look for in it.
    final class Evidence {
        var texts: [(label: String, text: String)] = []
        var secrets: [(label: String, value: String)] = [
            ("password", SecretsTests.password), ("security token", SecretsTests.securityToken),
            ("password+token", SecretsTests.password + SecretsTests.securityToken),
            ("client secret", SecretsTests.clientSecret), ("refresh token", SecretsTests.refreshToken),
            ("wrong password", SecretsTests.wrongPassword),
            // A signed JWT assertion starts with the base64url of `{"alg":"RS256"}`.
            ("JWT assertion", "eyJhbGciOiJSUzI1NiJ9"), ("PEM marker", "PRIVATE KEY"),
        ]

        func add(_ label: String, _ text: String) { texts.append((label, text)) }

        func addKey(_ pem: String, name: String) {
            // Any 32-character slice of the key's base64 body would be a leak.
            let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            for start in stride(from: 0, to: body.count - 32, by: 97) {
                secrets.append(("\(name) key bytes at \(start)", String(body.dropFirst(start).prefix(32))))
            }
        }

        func addTokens(_ tokens: [String], kind: String) {
            for token in tokens where !secrets.contains(where: { $0.value == token }) {
                secrets.append((kind, token))
                // The part after `!` alone is the secret part of a Salesforce token.
                if let bang = token.firstIndex(of: "!") { secrets.append((kind + " (after !)", String(token[token.index(after: bang)...]))) }
            }
        }

        /// `label: secret label` for every secret found; JSON's `\/` escape is undone first.
        var leaks: [String] {
            var found: [String] = []
            for (label, text) in texts {
                let plain = text.replacingOccurrences(of: "\\/", with: "/")
                for (name, value) in secrets where plain.contains(value) { found.append("\(label): \(name)") }
            }
            return found
        }
    }

    @Test("every grant, failures and a SIGTERM mid-download leak nothing", arguments: ["text", "json"])
    func nothingLeaks(format: String) async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch + "/spool", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let key = try CLISecretsTests.keyPair(in: scratch, name: "jwt")
        let world = try await E2EFixture {
            $0.contactCount = 1_200
            $0.defaultPageSize = 200
            $0.password = Self.password
            $0.securityToken = Self.securityToken
            $0.clientSecret = Self.clientSecret
            $0.refreshToken = Self.refreshToken
            $0.jwtPublicKeyPEM = key.publicPEM
            // No refresh-token rotation here: it would revoke SF_REFRESH_TOKEN for the next process (rotation within
            // one process is RefreshTokenRotationTests' subject, its token kept out of logs there).
        }
        let evidence = Evidence()
        evidence.addKey(key.privatePEM, name: "JWT private")
        let spool = scratch + "/spool"
        let base = ["SF_LOGIN_URL": world.emulator.baseURL, "SFPG_SPOOL_DIR": spool, "TMPDIR": spool]
        let logging = ["--log-level", "trace", "--log-format", format]
        let run = ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory] + logging
        let check = ["check", "--jobs-directory", E2EFixture.jobsDirectory] + logging

        func sfpg(_ label: String, _ arguments: [String], _ environment: [String: String], expect status: Int32?) throws {
            let result = try TestSyncProcess.run(
                arguments + ["--database-url", world.conninfo], environment: base.merging(environment) { $1 },
                timeout: .seconds(120))
            if let status {
                #expect(result.status == status, "\(label): \(result.stderr.suffix(2_000))")
            } else {
                #expect(result.status != 0 && result.status != 130, "\(label): \(result.stderr.suffix(2_000))")
            }
            evidence.add("\(label) stdout", result.stdout)
            evidence.add("\(label) stderr", result.stderr)
            evidence.addTokens(world.emulator.issuedAccessTokens, kind: "access token")
        }

        let client = ["SF_CLIENT_ID": world.configuration.clientId]
        let grants: [(String, [String: String])] = [
            ("password", world.environment.filter { $0.key != "SF_LOGIN_URL" }),
            ("refresh token", client.merging(["SF_CLIENT_SECRET": Self.clientSecret, "SF_REFRESH_TOKEN": Self.refreshToken]) { $1 }),
            ("client credentials", client.merging(["SF_CLIENT_SECRET": Self.clientSecret]) { $1 }),
            ("JWT", client.merging(["SF_USERNAME": world.configuration.username, "SF_PRIVATE_KEY_FILE": key.file]) { $1 }),
        ]
        for (index, (name, environment)) in grants.enumerated() {
            try sfpg("\(name) check", check, environment, expect: 0)
            try sfpg("\(name) describe", ["describe", "Contact"] + logging, environment, expect: 0)
            // Alternate the download paths: the locator chain and the parallel download with its spool files.
            let connections = index % 2 == 0 ? "3" : "1"
            try sfpg("\(name) run", run + ["--full", "--download-connections", connections], environment, expect: 0)
        }
        let issued = try #require(world.emulator.issuedAccessTokens.first)
        let fixedToken = ["SF_ACCESS_TOKEN": issued, "SF_INSTANCE_URL": world.emulator.baseURL]
        try sfpg("access token check", check, fixedToken, expect: 0)
        try sfpg("access token run", run + ["--download-connections", "3"], fixedToken, expect: 0)
        // A fixed token that is not (or no longer) valid: 401, not renewable.
        try sfpg("expired access token run", run, ["SF_ACCESS_TOKEN": "00D8d000000Emu1!ARexpired-SECRET-1d2c", "SF_INSTANCE_URL": world.emulator.baseURL], expect: nil)
        evidence.secrets.append(("invalid access token", "ARexpired-SECRET-1d2c"))

        // Failures: the wrong password (the token endpoint refuses), and 5xx that outlast the retries.
        var wrong = world.environment.filter { $0.key != "SF_LOGIN_URL" }
        wrong["SF_PASSWORD"] = Self.wrongPassword
        try sfpg("wrong password run", run, wrong, expect: 3)
        world.emulator.faults.failRequests(status: 503, count: 1_000, pathContains: "/jobs/query")
        let failed = try TestSyncProcess.run(
            run + ["--database-url", world.conninfo], environment: base.merging(grants[0].1) { $1 }, timeout: .seconds(120))
        #expect(failed.status != 0 && failed.status != 130, "5xx run: \(failed.stderr.suffix(2_000))")
        evidence.add("5xx run stdout", failed.stdout)
        evidence.add("5xx run stderr", failed.stderr)
        world.emulator.faults.clear()

        // SIGTERM while pages download over several connections; the spool files are read through the process's
        // open descriptors (they have no name) while it runs.
        world.emulator.faults.setBandwidth(bytesPerSecond: 24_000)
        let pagesBefore = world.emulator.requests.filter { $0.path.hasSuffix("/results") }.count
        let process = try TestSyncProcess(
            try TestBinaries.path("sfpg"), run + ["--full", "--download-connections", "3", "--database-url", world.conninfo],
            environment: base.merging(grants[1].1) { $1 })
        let downloading = E2EFixture.waitUntil {
            world.emulator.requests.filter { $0.path.hasSuffix("/results") }.count >= pagesBefore + 3
        }
        #expect(downloading, "the run never reached its pages: \(process.standardError)")
        usleep(500_000)
        var spoolFilesSeen = 0
        for (path, content) in Self.openSpoolFiles(of: process.pid) {
            spoolFilesSeen += 1
            evidence.add("open spool file \(path)", content)
        }
        #if os(Linux)
        #expect(spoolFilesSeen > 0, "no spool file was open to inspect")  // read through /proc/<pid>/fd
        #endif
        process.send(SIGTERM)
        #expect(process.wait(timeout: .seconds(30)) == 130, "\(process.standardError.suffix(2_000))")
        evidence.add("SIGTERM run stdout", process.standardOutput)
        evidence.add("SIGTERM run stderr", process.standardError)
        world.emulator.faults.setBandwidth(bytesPerSecond: nil)
        evidence.addTokens(world.emulator.issuedAccessTokens, kind: "access token")
        evidence.addTokens(world.emulator.issuedRefreshTokens, kind: "rotated refresh token")

        // The database's secrets, in every form sfpg reads them, on the other commands: a password in the URL (on the
        // command line, in DATABASE_URL), in PGPASSWORD, in a .pgpass file, and a malformed URL that carries one. The
        // test cluster trusts every connection, so the passwords travel without being checked.
        let urlPassword = "DbUrl-SECRET-6e0a2d", envPassword = "PgEnv-SECRET-1b7f4c", passfilePassword = "Pgpass-SECRET-92ce31"
        let badURLPassword = "BadUrl%zz-SECRET-5d"
        evidence.secrets += [
            ("database URL password", urlPassword), ("PGPASSWORD", envPassword), (".pgpass password", passfilePassword),
            ("malformed URL password", "BadUrl%zz-SECRET-5d"), ("malformed URL password tail", "SECRET-5d"),
        ]
        let withPassword = try PostgresConnection.conninfo(world.conninfo, overriding: ["password": urlPassword])
        let passfile = scratch + "/pgpass"
        try "*:*:*:*:\(passfilePassword)\n".write(toFile: passfile, atomically: true, encoding: .utf8)
        chmod(passfile, 0o600)
        let someKey = try world.connection.execute("SELECT salesforce_id FROM public.salesforce_contacts LIMIT 1").rows[0][0]!
        let databaseInputs: [(String, [String], [String: String])] = [
            ("URL flag", ["--database-url", withPassword], [:]),
            ("DATABASE_URL", [], ["DATABASE_URL": withPassword]),
            ("PGPASSWORD", ["--database-url", world.conninfo], ["PGPASSWORD": envPassword]),
            (".pgpass", ["--database-url", world.conninfo], ["PGPASSFILE": passfile]),
        ]
        for (input, flags, environment) in databaseInputs {
            let env = base.merging(grants[0].1) { $1 }.merging(environment) { $1 }
            for (command, expected) in [
                (["status", "--jobs-directory", E2EFixture.jobsDirectory], Int32(0)),
                (["migrate", "--jobs-directory", E2EFixture.jobsDirectory], 0),
                (["history", "contacts", someKey], 0),
                (["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--download-connections", "3"], 0),
            ] {
                let result = try TestSyncProcess.run(command + logging + flags, environment: env, timeout: .seconds(120))
                #expect(result.status == expected, "\(command[0]) with \(input): \(result.stderr.suffix(2_000))")
                evidence.add("\(command[0]) with \(input) stdout", result.stdout)
                evidence.add("\(command[0]) with \(input) stderr", result.stderr)
            }
        }
        let malformed = try TestSyncProcess.run(
            ["status"] + logging + ["--database-url", "postgresql://sfpg:\(badURLPassword)@127.0.0.1:1/x"],
            environment: base, timeout: .seconds(60))
        #expect(malformed.status == 2, "\(malformed.stderr)")
        evidence.add("malformed URL stdout", malformed.stdout)
        evidence.add("malformed URL stderr", malformed.stderr)
        // The demo reads none of the database inputs above, and has its own Salesforce: nothing of either shows.
        let demo = try TestSyncProcess.run(
            ["demo", "--contacts", "200"] + logging,
            environment: base.merging(grants[0].1) { $1 }.merging(["DATABASE_URL": withPassword, "PGPASSWORD": envPassword]) { $1 },
            timeout: .seconds(180))
        #expect(demo.status == 0, "\(demo.stderr.suffix(2_000))")
        evidence.add("demo stdout", demo.stdout)
        evidence.add("demo stderr", demo.stderr)
        evidence.addTokens(world.emulator.issuedAccessTokens, kind: "access token")

        // Whatever is left in the spool directory, and every sfpg table as text.
        for (path, content) in Self.files(under: spool) { evidence.add("spool leftover \(path)", content) }
        #expect(Self.files(under: spool).isEmpty, "spool files left behind")
        let tables = try world.connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'sfpg' ORDER BY 1").rows
            .compactMap { $0.first ?? nil }
        #expect(tables.contains("sync_logs"))
        for table in tables {
            let dump = try world.connection.execute(
                "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM sfpg.\"\(table)\" t").rows.first?.first ?? nil
            evidence.add("table sfpg.\(table)", dump ?? "")
        }

        // The evidence is real: trace lines of every request were there to leak into, and the check finds a leak.
        #expect(evidence.texts.filter { $0.text.contains("HTTP request") }.count >= 8)
        #expect(evidence.texts.contains { $0.label.hasPrefix("table sfpg.sync_logs") && $0.text.contains("contacts") })
        #expect(evidence.secrets.filter { $0.label == "access token" }.count >= 5)
        let probe = Evidence()
        probe.secrets = evidence.secrets
        probe.add("probe", "Authorization: Bearer \(issued) \(key.privatePEM.replacingOccurrences(of: "/", with: "\\/"))")
        #expect(probe.leaks.count >= 3)
        #expect(evidence.leaks.isEmpty, "\(evidence.leaks.joined(separator: "\n"))")
    }

    /// The content of every file the process holds open under a `sfpg-spool-` directory (deleted or not).
    static func openSpoolFiles(of pid: pid_t) -> [(String, String)] {
        let directory = "/proc/\(pid)/fd"
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        var found: [(String, String)] = []
        for entry in entries {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + entry),
                target.contains("sfpg-spool-"),
                let data = FileManager.default.contents(atPath: directory + "/" + entry)
            else { continue }
            found.append((target, String(decoding: data, as: UTF8.self)))
        }
        return found
    }

    /// Every regular file under `root`, with its content.
    static func files(under root: String) -> [(String, String)] {
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var found: [(String, String)] = []
        for case let relative as String in enumerator {
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let data = FileManager.default.contents(atPath: path)
            else { continue }
            found.append((path, String(decoding: data, as: UTF8.self)))
        }
        return found
    }
}
