import Foundation
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// The JWT bearer grant through the CLI: the private key and the signed assertion never reach output or tables.
@Suite("CLI: JWT credentials stay secret", .serialized)
struct CLISecretsTests {
    /// A fresh RSA key pair made with the openssl tool: (private key file, public key PEM, private key PEM).
    static func keyPair(in directory: String, name: String) throws -> (file: String, publicPEM: String, privatePEM: String) {
        let privateFile = directory + "/\(name).pem"
        let publicFile = directory + "/\(name).pub.pem"
        for arguments in [
            ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", privateFile],
            ["pkey", "-in", privateFile, "-pubout", "-out", publicFile],
        ] {
            let openssl = try TestSyncProcess("/usr/bin/openssl", arguments, environment: [:])
            #expect(openssl.wait() == 0, "\(openssl.standardError)")
        }
        return (privateFile, try String(contentsOfFile: publicFile, encoding: .utf8),
                try String(contentsOfFile: privateFile, encoding: .utf8))
    }

    @Test("a JWT run and a run with the wrong key print neither key material nor assertions nor tokens")
    func jwtSecretsStayOut() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-jwt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let good = try Self.keyPair(in: directory, name: "good")
        let wrong = try Self.keyPair(in: directory, name: "wrong")
        let world = try await E2EFixture {
            $0.contactCount = 60
            $0.jwtPublicKeyPEM = good.publicPEM
        }
        let jwtEnvironment = [
            "SF_LOGIN_URL": world.emulator.baseURL, "SF_CLIENT_ID": world.configuration.clientId,
            "SF_USERNAME": world.configuration.username, "SF_PRIVATE_KEY_FILE": good.file,
        ]
        let arguments = ["run", "contacts", "--log-level", "trace", "--jobs-directory", E2EFixture.jobsDirectory,
                         "--database-url", world.conninfo]
        let ok = try TestSyncProcess.run(arguments, environment: jwtEnvironment)
        #expect(ok.status == 0, "\(ok.stderr)")
        var wrongEnvironment = jwtEnvironment
        wrongEnvironment["SF_PRIVATE_KEY_FILE"] = wrong.file
        let denied = try TestSyncProcess.run(arguments + ["--full"], environment: wrongEnvironment)
        #expect(denied.status == 3, "\(denied.stderr)")

        let stored = try world.connection.execute(
            "SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM sfpg.sync_logs t").rows.first?.first ?? nil
        let output = ok.stdout + ok.stderr + denied.stdout + denied.stderr + (stored ?? "")
        // Any 32-character slice of either key's base64 body would be a leak.
        for pem in [good.privatePEM, wrong.privatePEM] {
            let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            for start in stride(from: 0, to: body.count - 32, by: 200) {
                let slice = body.dropFirst(start).prefix(32)
                #expect(!output.contains(slice), "private key material leaked")
            }
        }
        #expect(!output.contains("PRIVATE KEY"))
        // A signed assertion starts with the base64url of `{"alg":"RS256"`; tokens carry `!AR`.
        #expect(!output.contains("eyJhbGciOiJSUzI1NiJ9"))
        #expect(!output.contains("!AR"))
    }
}
