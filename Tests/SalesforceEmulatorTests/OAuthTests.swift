import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@Suite struct OAuthTests {
    func token(_ emulator: TestEmulator, _ fields: [(String, String)], headers: [String: String] = [:]) throws -> CurlResponse {
        try Curl.request(
            "POST", "\(emulator.baseURL)/services/oauth2/token",
            headers: ["Content-Type": "application/x-www-form-urlencoded"].merging(headers) { $1 },
            body: Curl.form(fields))
    }

    let client = [("client_id", "sfpg-emulator-client"), ("client_secret", "emulator-secret")]

    @Test func passwordGrantReturnsSalesforceShapedToken() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let response = try token(
            emulator, [("grant_type", "password")] + client
                + [("username", "integration@sfpg.example"), ("password", "emulator-passwordemulatorToken")])
        #expect(response.status == 200)
        let body = try response.object()
        let accessToken = try #require(body["access_token"] as? String)
        #expect(accessToken.hasPrefix("00D") && accessToken.contains("!AR"))
        #expect(body["instance_url"] as? String == emulator.baseURL)
        #expect(body["token_type"] as? String == "Bearer")
        let issuedAt = try #require(body["issued_at"] as? String)
        #expect(issuedAt.count == 13 && Int64(issuedAt) != nil)
        #expect((body["id"] as? String)?.contains("/id/00D") == true)
        #expect(body["signature"] is String && body["scope"] is String)
        #expect(body["refresh_token"] == nil)
        // Tokens are random: a second login gets another one.
        let second = try token(
            emulator, [("grant_type", "password")] + client
                + [("username", "integration@sfpg.example"), ("password", "emulator-passwordemulatorToken")])
        #expect(try second.object()["access_token"] as? String != accessToken)
    }

    @Test func passwordGrantWithoutSecurityTokenFails() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let response = try token(
            emulator, [("grant_type", "password")] + client
                + [("username", "integration@sfpg.example"), ("password", "emulator-password")])
        #expect(response.status == 400)
        let body = try response.object()
        #expect(body["error"] as? String == "invalid_grant")
        #expect(body["error_description"] as? String == "authentication failure")
    }

    @Test func clientCredentialsInBodyOrBasicAuth() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        #expect(try token(emulator, [("grant_type", "client_credentials")] + client).status == 200)
        let basic = Data("sfpg-emulator-client:emulator-secret".utf8).base64EncodedString()
        let viaBasic = try token(emulator, [("grant_type", "client_credentials")], headers: ["Authorization": "Basic \(basic)"])
        #expect(viaBasic.status == 200)
        let wrong = try token(
            emulator, [("grant_type", "client_credentials"), ("client_id", "sfpg-emulator-client"), ("client_secret", "nope")])
        #expect(wrong.status == 400)
        #expect(try wrong.object()["error"] as? String == "invalid_client")
        let unknownClient = try token(emulator, [("grant_type", "client_credentials"), ("client_id", "x"), ("client_secret", "y")])
        #expect(try unknownClient.object()["error"] as? String == "invalid_client_id")
    }

    @Test func refreshTokenGrant() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let ok = try token(emulator, [("grant_type", "refresh_token"), ("refresh_token", "emulator-refresh-token")] + client)
        #expect(ok.status == 200)
        let bad = try token(emulator, [("grant_type", "refresh_token"), ("refresh_token", "stale")] + client)
        #expect(bad.status == 400)
        #expect(try bad.object()["error_description"] as? String == "expired access/refresh token")
    }

    @Test func unsupportedGrantType() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let response = try token(emulator, [("grant_type", "authorization_code")] + client)
        #expect(response.status == 400)
        #expect(try response.object()["error"] as? String == "unsupported_grant_type")
    }

    @Test func jwtBearerGrantVerifiesSignatureAndClaims() async throws {
        let keys = try JWTKeys()
        defer { keys.remove() }
        let emulator = try await TestEmulator.start { $0.jwtPublicKeyPEM = keys.publicPEM }
        defer { try? emulator.shutdownBlocking() }
        let now = Int(Date().timeIntervalSince1970)
        func grant(_ claims: String, key: String? = nil) throws -> CurlResponse {
            let assertion = try keys.sign(claims, privateKeyPath: key ?? keys.privatePath)
            return try token(
                emulator, [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)])
        }
        let good = #"{"iss":"sfpg-emulator-client","sub":"integration@sfpg.example","aud":"https://login.salesforce.com","exp":\#(now + 180)}"#
        let ok = try grant(good)
        #expect(ok.status == 200)
        #expect((try ok.object()["access_token"] as? String)?.hasPrefix("00D") == true)
        let ownAudience = #"{"iss":"sfpg-emulator-client","sub":"integration@sfpg.example","aud":"\#(emulator.baseURL)","exp":\#(now + 180)}"#
        #expect(try grant(ownAudience).status == 200)

        let badAudience = try grant(#"{"iss":"sfpg-emulator-client","sub":"integration@sfpg.example","aud":"https://evil.example","exp":\#(now + 180)}"#)
        #expect(try badAudience.object()["error_description"] as? String == "audience is invalid")
        let expired = try grant(#"{"iss":"sfpg-emulator-client","sub":"integration@sfpg.example","aud":"https://test.salesforce.com","exp":\#(now - 10)}"#)
        #expect(try expired.object()["error_description"] as? String == "expired authorization code")
        let wrongIssuer = try grant(#"{"iss":"other","sub":"integration@sfpg.example","aud":"https://login.salesforce.com","exp":\#(now + 180)}"#)
        #expect(try wrongIssuer.object()["error"] as? String == "invalid_client_id")
        let otherKey = try grant(good, key: keys.otherPrivatePath)
        #expect(otherKey.status == 400)
        #expect(try otherKey.object()["error"] as? String == "invalid_grant")
    }

    @Test("--jwt-public-key takes the certificate a Connected App is given, as well as a bare public key")
    func jwtBearerWithCertificate() async throws {
        let keys = try JWTKeys()
        defer { keys.remove() }
        let certificatePath = keys.dir.appendingPathComponent("sfpg.crt").path
        try JWTKeys.openssl(["req", "-x509", "-new", "-key", keys.privatePath, "-out", certificatePath, "-days", "2", "-subj", "/CN=sfpg"])
        let certificate = try String(contentsOfFile: certificatePath, encoding: .utf8)
        #expect(certificate.contains("BEGIN CERTIFICATE"))
        let emulator = try await TestEmulator.start { $0.jwtPublicKeyPEM = certificate }
        defer { try? emulator.shutdownBlocking() }
        let claims = #"{"iss":"sfpg-emulator-client","sub":"integration@sfpg.example","aud":"https://login.salesforce.com","exp":\#(Int(Date().timeIntervalSince1970) + 180)}"#
        func grant(_ key: String) throws -> CurlResponse {
            try token(emulator, [
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", try keys.sign(claims, privateKeyPath: key)),
            ])
        }
        #expect(try grant(keys.privatePath).status == 200)
        #expect(try grant(keys.otherPrivatePath).object()["error"] as? String == "invalid_grant")
    }
}

/// RSA keys made with the `openssl` command line, and RS256 signing with `openssl dgst`.
struct JWTKeys {
    let dir: URL
    let privatePath: String
    let otherPrivatePath: String
    let publicPEM: String

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("jwt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        privatePath = dir.appendingPathComponent("key.pem").path
        otherPrivatePath = dir.appendingPathComponent("other.pem").path
        let publicPath = dir.appendingPathComponent("pub.pem").path
        try Self.openssl(["genrsa", "-out", privatePath, "2048"])
        try Self.openssl(["genrsa", "-out", otherPrivatePath, "2048"])
        try Self.openssl(["rsa", "-in", privatePath, "-pubout", "-out", publicPath])
        publicPEM = try String(contentsOfFile: publicPath, encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }

    func sign(_ claims: String, privateKeyPath: String) throws -> String {
        let input = Self.base64URL(Data(#"{"alg":"RS256"}"#.utf8)) + "." + Self.base64URL(Data(claims.utf8))
        let inputPath = dir.appendingPathComponent("input-\(UUID().uuidString)").path
        let signaturePath = inputPath + ".sig"
        try Data(input.utf8).write(to: URL(fileURLWithPath: inputPath))
        try Self.openssl(["dgst", "-sha256", "-sign", privateKeyPath, "-out", signaturePath, inputPath])
        let signature = try Data(contentsOf: URL(fileURLWithPath: signaturePath))
        return input + "." + Self.base64URL(signature)
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func openssl(_ arguments: [String]) throws {
        try TestSyncProcess.check("/usr/bin/openssl", arguments)
    }
}
