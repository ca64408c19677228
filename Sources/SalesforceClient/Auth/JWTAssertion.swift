import COpenSSL
import Foundation

/// Builds the RS256-signed assertion of the OAuth JWT bearer flow.
enum JWTAssertion {
    /// - Throws: `.configuration` when the PEM is not a usable private key (the key text is never echoed).
    static func make(
        clientId: String, username: String, audience: String, privateKeyPEM: String, now: Date = Date()
    ) throws -> String {
        let header = #"{"alg":"RS256"}"#
        let claims = Claims(iss: clientId, sub: username, aud: audience, exp: Int(now.timeIntervalSince1970) + 180)
        let signingInput = base64URL(Array(header.utf8)) + "." + base64URL(try LenientJSON.encode(claims))
        let signature = try sign(Array(signingInput.utf8), privateKeyPEM: privateKeyPEM)
        return signingInput + "." + base64URL(signature)
    }

    /// Issuer (consumer key), subject (username), audience and expiry (seconds since 1970): three minutes, the
    /// window Salesforce is documented to accept.
    struct Claims: Encodable {
        var iss: String
        var sub: String
        var aud: String
        var exp: Int
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// RSA PKCS#1 v1.5 with SHA-256 over `input`.
    static func sign(_ input: [UInt8], privateKeyPEM: String) throws -> [UInt8] {
        func keyError(_ what: String) -> SalesforceError {
            SalesforceError(
                code: .configuration,
                message: "The JWT private key (SF_PRIVATE_KEY_FILE) \(what); it must be an unencrypted PEM RSA "
                    + "private key matching the certificate uploaded to the Connected App.")
        }
        let pemBytes = Array(privateKeyPEM.utf8)
        let key: OpaquePointer? = pemBytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else {
            ERR_clear_error()
            throw keyError("could not be read")
        }
        defer { EVP_PKEY_free(key) }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA else { throw keyError("is not an RSA key") }
        guard let context = EVP_MD_CTX_new() else { throw keyError("could not be used (out of memory)") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            ERR_clear_error()
            throw keyError("could not start an RS256 signature")
        }
        var length = 0
        guard input.withUnsafeBufferPointer({ EVP_DigestSign(context, nil, &length, $0.baseAddress, $0.count) }) == 1
        else {
            ERR_clear_error()
            throw keyError("could not size the signature")
        }
        var signature = [UInt8](repeating: 0, count: length)
        let status = signature.withUnsafeMutableBufferPointer { output in
            input.withUnsafeBufferPointer { EVP_DigestSign(context, output.baseAddress, &length, $0.baseAddress, $0.count) }
        }
        guard status == 1 else {
            ERR_clear_error()
            throw keyError("could not sign the assertion")
        }
        return Array(signature.prefix(length))
    }
}
