import Foundation
@testable import PostgresLoader
import Testing
import TestSupport

/// The database password never reaches an error message, whatever form the connection string takes.
@Suite struct ConnectionSecretsTests {
    static let password = "S3cr%t!pass"

    /// Fails if `text` holds the password, a telling piece of it, or its percent-decoded form.
    static func expectNoPassword(_ text: String, _ spellings: [String] = [password], sourceLocation: SourceLocation = #_sourceLocation) {
        for spelling in spellings {
            #expect(!text.contains(spelling), "password leaked: \(text)", sourceLocation: sourceLocation)
        }
        #expect(!text.contains("t!pass"), "part of the password leaked: \(text)", sourceLocation: sourceLocation)
    }

    @Test func aMalformedURLIsReportedWithoutQuotingIt() throws {
        // `%t!` is not a percent-escape: libpq's own message is `invalid percent-encoded token: "S3cr%t!pass"`.
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection("postgresql://u:\(Self.password)@db.invalid/db")
        }
        #expect(error?.code == .configuration)
        Self.expectNoPassword(String(describing: error))
        #expect(error?.description.contains("database URL is malformed") == true, "\(String(describing: error))")
        #expect(error?.description.contains("%25") == true)
    }

    @Test func aMalformedKeyValueStringIsReportedWithoutQuotingIt() throws {
        // An unquoted space splits the password: libpq says `missing "=" after "t!pass" in connection info string`.
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection("host=/nonexistent-sfpg-dir password=S3cr t!pass dbname=x")
        }
        #expect(error?.code == .configuration)
        Self.expectNoPassword(String(describing: error), ["S3cr t!pass"])
        #expect(error?.description.contains("single quotes") == true, "\(String(describing: error))")
        let unterminated = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection("host=/nonexistent-sfpg-dir password='S3cr%t!pass dbname=x")
        }
        Self.expectNoPassword(String(describing: unterminated))
    }

    @Test func conninfoOverridingDoesNotQuoteAMalformedString() throws {
        let error = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection.conninfo("postgresql://u:\(Self.password)@db.invalid/db", overriding: ["dbname": "x"])
        }
        #expect(error?.code == .configuration)
        Self.expectNoPassword(String(describing: error))
    }

    /// A libpq message that does contain the password (here because the role name is the password too) is
    /// scrubbed, in URI, key=value and PGPASSWORD form alike.
    @Test func aPasswordInLibpqsMessageIsRemoved() throws {
        let base = try TestPostgres.makeDatabase()
        let keyValue = try PostgresConnection.conninfo(base, overriding: ["user": Self.password, "password": Self.password])
        let error = #expect(throws: PostgresError.self) { _ = try PostgresConnection(keyValue) }
        // The role does not exist: a retry cannot help, so not `.connection`.
        #expect(error?.code == .configuration)
        Self.expectNoPassword(String(describing: error))
        #expect(error?.description.contains("[redacted]") == true, "\(String(describing: error))")

        // The same through a URI: the role is the percent-decoded password, the URI holds the encoded one.
        let socket = try #require(Self.value(of: "host", in: base))
        let port = try #require(Self.value(of: "port", in: base))
        let encoded = "S3cr%25t%21pass"
        let uri = "postgresql://\(encoded):\(encoded)@/postgres?host=\(socket)&port=\(port)"
        let uriError = #expect(throws: PostgresError.self) { _ = try PostgresConnection(uri) }
        #expect(uriError?.code == .configuration)
        Self.expectNoPassword(String(describing: uriError), [Self.password, encoded])
    }

    @Test func spellingsOfThePasswordAreCollected() throws {
        let secrets = try ConnectionSecrets.checking("postgresql://me:p%40ss@db.invalid/x?password=q%25w")
        #expect(Set(secrets.secrets).isSuperset(of: ["p%40ss", "q%25w", "q%w"]))
        #expect(secrets.scrub("a p%40ss b q%w") == "a [redacted] b [redacted]")
        // A plain database name is not a connection string to libpq, and not parsed.
        #expect(try ConnectionSecrets.checking("mydb").secrets.allSatisfy { !$0.contains("mydb") })
    }

    static func value(of key: String, in conninfo: String) -> String? {
        guard let range = conninfo.range(of: "\(key)='") else { return nil }
        let rest = conninfo[range.upperBound...]
        return rest.firstIndex(of: "'").map { String(rest[..<$0]) }
    }
}
