import Foundation
import Testing
import TestSupport

/// README.md is the spec: its runnable examples run here, as written, against the emulator and a throwaway
/// PostgreSQL (issue 21, "a test that walks every documented command"). The JWT steps (key and certificate, then
/// `sfpg check`), every `sfpg` line of its ```sh blocks, the cron lines and the systemd `ExecStart`; a changed
/// example is run as changed. Only what cannot exist locally is replaced, each replacement listed in `substitutions`.
@Suite("README examples run as written", .serialized, .timeLimit(.minutes(3)))
struct ReadmeExamplesTests {
    static let readme = (try? String(contentsOfFile: TestBinaries.repositoryRoot + "/README.md", encoding: .utf8)) ?? ""

    /// The bodies of README's fenced blocks of `language`.
    static func blocks(_ language: String) -> [String] {
        readme.components(separatedBy: "```" + language + "\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    /// A README command line with its comment cut off.
    static func command(_ line: Substring) -> String {
        String(line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]).trimmingCharacters(in: .whitespaces)
    }

    /// The exit codes a line's comment documents (`# every job: exit 0 clean, 7 drift found`); 0 without one.
    static func documentedStatuses(_ line: Substring) -> Set<Int32> {
        let parts = line.split(separator: "#", maxSplits: 1)
        guard parts.count == 2, parts[1].contains("exit ") else { return [0] }
        return Set(parts[1].split(whereSeparator: { !$0.isNumber }).compactMap { Int32($0) })
    }

    static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    @Test("the JWT steps, the sh blocks' sfpg commands, the cron lines and the systemd unit")
    func examplesRun() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-readme-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/jobs", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in ["contacts.yaml", "accounts.yaml", "accounts.sql", "opportunities.yaml", "opportunities.sql"] {
            try FileManager.default.copyItem(atPath: E2EFixture.jobsDirectory + "/" + name, toPath: directory + "/jobs/" + name)
        }
        let sfpg = try TestBinaries.path("sfpg")
        func shell(_ command: String, _ environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
            try TestSyncProcess.run("/bin/sh", ["-c", "cd \(Self.shellQuoted(directory)) && " + command], environment: environment,
                                    timeout: .seconds(90))
        }

        // JWT step 1 makes the key and the certificate the Connected App (here: the emulator) is given.
        let openssl = try #require(Self.readme.split(separator: "`").first { $0.hasPrefix("openssl req -x509") }.map(String.init))
        let made = try shell(openssl, [:])
        #expect(made.status == 0, "\(made.stderr)")
        let certificate = try String(contentsOfFile: directory + "/sfpg.crt", encoding: .utf8)
        let world = try await E2EFixture {
            $0.contactCount = 50
            $0.jwtPublicKeyPEM = certificate
            $0.wideObjectFields = 12
            $0.wideObjectRecords = 40
        }
        var environment = world.environment
        environment["DATABASE_URL"] = world.conninfo
        environment["PATH"] = (sfpg as NSString).deletingLastPathComponent + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        // What a README line names but only a real org has.
        let substitutions = [
            "https://login.salesforce.com": world.environment["SF_LOGIN_URL"] ?? "", "<consumer key>": world.configuration.clientId,
            "<user>": world.configuration.username, "Invoice__c": "Wide__c",  // the emulator's custom object
            "/var/log/sfpg.log": directory + "/sfpg.log", "cd /opt/sfpg": "true", "./sfpg": "sfpg", "/opt/sfpg/sfpg": "sfpg",
        ]
        func localized(_ command: String) -> String {
            substitutions.reduce(command) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
        }

        // The Commands table's migrate (what the Kubernetes init container runs): sfpg's schema and the jobs' tables.
        let migrate = try #require(Self.readme.split(separator: "`").first { $0.hasPrefix("sfpg migrate [") })
        let migrated = try shell(localized(String(migrate).replacingOccurrences(of: " [--jobs-directory DIR]", with: "")), environment)
        #expect(migrated.status == 0, "\(migrated.stderr)")

        // JWT step 4: only the JWT variables (no password grant to fall back to).
        let step4 = try #require(Self.readme.split(separator: "`").first { $0.hasPrefix("SF_LOGIN_URL=") && $0.hasSuffix("sfpg check") })
        let jwtOnly = ["DATABASE_URL": world.conninfo, "PATH": environment["PATH"]!]
        let check = try shell(localized(String(step4)), jwtOnly)
        #expect(check.status == 0, "JWT step 4: \(check.stdout)\(check.stderr)")

        // Every sfpg line of the sh blocks, in order.
        var ran = 0
        for block in Self.blocks("sh") {
            for line in block.split(separator: "\n") where Self.command(line).hasPrefix("sfpg ") {
                let result = try shell(localized(Self.command(line)), environment)
                #expect(Self.documentedStatuses(line).contains(result.status), "\(line)\n\(result.stdout)\(result.stderr)")
                ran += 1
            }
        }
        #expect(ran >= 4, "\(ran) sfpg lines in ```sh blocks")

        // cron and systemd: JSON lines only, in the file the line appends to and in the unit's journal.
        let cron = Self.blocks("cron").flatMap { $0.split(separator: "\n") }.filter { !$0.hasPrefix("#") }
        #expect(cron.count == 2)
        for entry in cron {
            let command = entry.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).last.map(String.init) ?? ""
            let result = try shell(localized(command), environment)
            #expect(result.status == 0, "\(entry)\n\(result.stderr)")
        }
        let log = try String(contentsOfFile: directory + "/sfpg.log", encoding: .utf8)
        _ = CLIOperatorOutputTests.jsonLines(log)
        #expect(log.contains("\"job summary\""), "\(log)")
        let unit = try #require(Self.blocks("ini").first?.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let service = try shell(localized(String(unit.dropFirst("ExecStart=".count))) + " 2>&1", environment)
        #expect(service.status == 0, "\(service.stdout)")
        _ = CLIOperatorOutputTests.jsonLines(service.stdout)
    }
}
