import Foundation
import PostgresLoader
import Testing
import TestSupport

/// The database password never reaches the `sfpg` process's output, whether libpq cannot parse the connection
/// string (it quotes the fragment it choked on) or a libpq message happens to contain it.
@Suite("CLI: the database password stays secret", .serialized)
struct CLIDatabaseSecretsTests {
    static let password = "S3cr%t!pass"
    static let encoded = "S3cr%25t%21pass"

    static func expectNoPassword(_ result: (status: Int32, stdout: String, stderr: String), sourceLocation: SourceLocation = #_sourceLocation) {
        let output = result.stdout + result.stderr
        for spelling in [password, encoded, "t!pass", "t%21pass"] {
            #expect(!output.contains(spelling), "password leaked: \(output)", sourceLocation: sourceLocation)
        }
        #expect(!result.stderr.isEmpty, sourceLocation: sourceLocation)
    }

    static func value(of key: String, in conninfo: String) -> String? {
        guard let range = conninfo.range(of: "\(key)='") else { return nil }
        let rest = conninfo[range.upperBound...]
        return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
    }

    @Test("a malformed database URL exits 2 with a hint, quoting none of it")
    func malformedURL() throws {
        let result = try TestSyncProcess.run(
            ["migrate", "--database-url", "postgresql://u:\(Self.password)@db.invalid/db"], environment: [:])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("%25"), "\(result.stderr)")
        Self.expectNoPassword(result)
    }

    @Test("URL, key=value and PGPASSWORD: a libpq message holding the password is scrubbed")
    func scrubbedEverywhere() throws {
        let base = try TestPostgres.makeDatabase()
        let socket = try #require(Self.value(of: "host", in: base))
        let port = try #require(Self.value(of: "port", in: base))
        // The role name is the password too, so the server's `role "…" does not exist` would show it. An unknown role
        // fails the same way every time: exit 2, not 4.
        let uri = "postgresql://\(Self.encoded):\(Self.encoded)@/postgres?host=\(socket)&port=\(port)"
        let viaURI = try TestSyncProcess.run(["migrate", "--database-url", uri], environment: [:])
        #expect(viaURI.status == 2, "\(viaURI.stderr)")
        Self.expectNoPassword(viaURI)

        let keyValue = try PostgresConnection.conninfo(base, overriding: ["user": Self.password, "password": Self.password])
        let viaKeyValue = try TestSyncProcess.run(["migrate", "--database-url", keyValue], environment: [:])
        #expect(viaKeyValue.status == 2, "\(viaKeyValue.stderr)")
        Self.expectNoPassword(viaKeyValue)

        let withoutPassword = try PostgresConnection.conninfo(base, overriding: ["user": Self.password])
        let viaEnvironment = try TestSyncProcess.run(
            ["migrate"], environment: ["DATABASE_URL": withoutPassword, "PGPASSWORD": Self.password])
        #expect(viaEnvironment.status == 2, "\(viaEnvironment.stderr)")
        Self.expectNoPassword(viaEnvironment)
    }
}
