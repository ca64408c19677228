import COpenSSL
import Foundation

/// Verifies RS256 JWT assertions of the JWT bearer grant with OpenSSL's `EVP_DigestVerify*`.
enum JWTVerifier {
    enum Failure: Error, Equatable { case malformed, badSignature, badKey }

    /// The claims of a correctly signed assertion.
    static func verify(_ assertion: String, publicKeyPEM: String) throws(Failure) -> [String: Any] {
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = base64URLDecode(String(parts[0])),
            let payloadData = base64URLDecode(String(parts[1])), let signature = base64URLDecode(String(parts[2])),
            let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any],
            let claims = (try? JSONSerialization.jsonObject(with: payloadData)) as? [String: Any]
        else { throw .malformed }
        guard header["alg"] as? String == "RS256" else { throw .badSignature }
        let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
        guard try verifySignature(signingInput, signature: Array(signature), publicKeyPEM: publicKeyPEM) else {
            throw .badSignature
        }
        return claims
    }

    private static func verifySignature(_ input: [UInt8], signature: [UInt8], publicKeyPEM: String) throws(Failure)
        -> Bool
    {
        let pem = Array(publicKeyPEM.utf8)
        let key: OpaquePointer? = pem.withUnsafeBytes { raw -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            // A Connected App is given a certificate (README's JWT step makes one with openssl req -x509); a bare
            // public key is accepted too. Either way the key inside verifies the assertion.
            guard publicKeyPEM.contains("-----BEGIN CERTIFICATE-----") else { return PEM_read_bio_PUBKEY(bio, nil, nil, nil) }
            guard let certificate = PEM_read_bio_X509(bio, nil, nil, nil) else { return nil }
            defer { X509_free(certificate) }
            return X509_get_pubkey(certificate)
        }
        guard let key else { throw .badKey }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { throw .badKey }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { throw .badKey }
        let ok = input.withUnsafeBufferPointer { inBuf in
            signature.withUnsafeBufferPointer { sigBuf in
                EVP_DigestVerify(context, sigBuf.baseAddress, sigBuf.count, inBuf.baseAddress, inBuf.count)
            }
        }
        return ok == 1
    }

    static func base64URLDecode(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
