import Foundation
import Testing
import TestSupport

@testable import SalesforceClient

@Suite struct JWTAssertionTests {
    @Test func signatureVerifiesWithTheOpenSSLPublicKey() throws {
        let directory = try TemporaryDirectory()
        let keys = try RSAKeyPair(in: directory)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let assertion = try JWTAssertion.make(
            clientId: "client", username: "user@example.com", audience: "https://login.salesforce.com",
            privateKeyPEM: keys.privateKeyPEM, now: now)
        let parts = assertion.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        let header = try #require(base64URLDecode(parts[0]))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"RS256"}"#)
        let claimBytes = try #require(base64URLDecode(parts[1]))
        let claims = try #require(try JSONSerialization.jsonObject(with: Data(claimBytes)) as? [String: Any])
        #expect(claims["iss"] as? String == "client")
        #expect(claims["sub"] as? String == "user@example.com")
        #expect(claims["aud"] as? String == "https://login.salesforce.com")
        #expect(claims["exp"] as? Int == 1_700_000_180)

        try Array((parts[0] + "." + parts[1]).utf8).write(to: directory.path + "/input")
        let signature = try #require(base64URLDecode(parts[2]))
        try signature.write(to: directory.path + "/signature")
        let verified = try TestSyncProcess.check(
            "/usr/bin/openssl",
            ["dgst", "-sha256", "-verify", keys.publicKeyPath, "-signature", directory.path + "/signature",
             directory.path + "/input"])
        #expect(String(decoding: verified, as: UTF8.self).contains("Verified OK"))
    }

    @Test func garbageKeyIsAConfigurationErrorWithoutTheKeyText() throws {
        let error = try #require(throws: SalesforceError.self) {
            try JWTAssertion.make(
                clientId: "c", username: "u", audience: "a", privateKeyPEM: "not a key SECRETMATERIAL")
        }
        #expect(error.code == .configuration)
        #expect(!error.description.contains("SECRETMATERIAL"))
    }
}

func base64URLDecode(_ text: String) -> [UInt8]? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64 += "=" }
    return Data(base64Encoded: base64).map(Array.init)
}

extension Array where Element == UInt8 {
    func write(to path: String) throws { try Data(self).write(to: URL(fileURLWithPath: path)) }
}

/// An RSA key pair made by the openssl CLI, as a user would make one for a Connected App.
struct RSAKeyPair {
    let privateKeyPEM: String
    let publicKeyPEM: String
    let publicKeyPath: String

    init(in directory: TemporaryDirectory) throws {
        let privatePath = directory.path + "/private.pem"
        publicKeyPath = directory.path + "/public.pem"
        try TestSyncProcess.check("/usr/bin/openssl", ["genrsa", "-out", privatePath, "2048"])
        try TestSyncProcess.check("/usr/bin/openssl", ["rsa", "-in", privatePath, "-pubout", "-out", publicKeyPath])
        privateKeyPEM = try String(contentsOfFile: privatePath, encoding: .utf8)
        publicKeyPEM = try String(contentsOfFile: publicKeyPath, encoding: .utf8)
    }
}
