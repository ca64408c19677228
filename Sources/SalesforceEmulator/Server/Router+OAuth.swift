import COpenSSL
import Foundation

extension Router {
    /// `POST /services/oauth2/token`: password, client_credentials, JWT bearer and refresh_token grants.
    func token(_ request: EmulatorRequest) -> EmulatorResponse {
        let form = FormDecoding.decode(String(decoding: request.body, as: UTF8.self))
        switch form["grant_type"] {
        case "password":
            if let failure = checkClient(id: form["client_id"], secret: form["client_secret"]) { return failure }
            guard form["username"] == configuration.username,
                form["password"] == configuration.password + configuration.securityToken
            else { return .oauthError("invalid_grant", "authentication failure") }
            return success(scope: "api id")
        case "client_credentials":
            var id = form["client_id"]
            var secret = form["client_secret"]
            if let basic = request.header("Authorization"), basic.hasPrefix("Basic "),
                let decoded = Data(base64Encoded: String(basic.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
                let colon = decoded.firstIndex(of: ":")
            {
                id = String(decoded[..<colon])
                secret = String(decoded[decoded.index(after: colon)...])
            }
            if id == nil && secret == nil { return .oauthError("invalid_client", "invalid client credentials") }
            if let failure = checkClient(id: id, secret: secret) { return failure }
            return success(scope: "api")
        case "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return jwtBearer(form["assertion"])
        case "refresh_token":
            if let failure = checkClient(id: form["client_id"], secret: form["client_secret"], secretRequired: false) {
                return failure
            }
            guard let presented = form["refresh_token"],
                tokens.isUsableRefreshToken(presented, configured: configuration.refreshToken)
            else {
                return .oauthError("invalid_grant", "expired access/refresh token")
            }
            let rotated = configuration.rotateRefreshTokens ? tokens.rotateRefreshToken(presented) : nil
            return success(scope: "api refresh_token", refreshToken: rotated)
        case nil:
            return .oauthError("unsupported_grant_type", "grant type not supported")
        default:
            return .oauthError("unsupported_grant_type", "grant type not supported")
        }
    }

    private func checkClient(id: String?, secret: String?, secretRequired: Bool = true) -> EmulatorResponse? {
        guard id == configuration.clientId else { return .oauthError("invalid_client_id", "client identifier invalid") }
        if secret == nil && !secretRequired { return nil }
        guard secret == configuration.clientSecret else { return .oauthError("invalid_client", "invalid client credentials") }
        return nil
    }

    private func jwtBearer(_ assertion: String?) -> EmulatorResponse {
        guard let pem = configuration.jwtPublicKeyPEM, let assertion else {
            return .oauthError("invalid_grant", "invalid assertion")
        }
        let claims: [String: Any]
        do {
            claims = try JWTVerifier.verify(assertion, publicKeyPEM: pem)
        } catch {
            return .oauthError("invalid_grant", "invalid assertion")
        }
        guard claims["iss"] as? String == configuration.clientId else {
            return .oauthError("invalid_client_id", "client identifier invalid")
        }
        let base = baseURL.withLock { $0 }
        let audiences = ["https://login.salesforce.com", "https://test.salesforce.com", base, base + "/"]
        let aud = (claims["aud"] as? String).map { [$0] } ?? (claims["aud"] as? [String]) ?? []
        guard aud.contains(where: audiences.contains) else { return .oauthError("invalid_grant", "audience is invalid") }
        guard let exp = (claims["exp"] as? NSNumber)?.doubleValue, exp > Date().timeIntervalSince1970 else {
            return .oauthError("invalid_grant", "expired authorization code")
        }
        guard claims["sub"] as? String == configuration.username else {
            return .oauthError("invalid_grant", "user hasn't approved this consumer")
        }
        return success(scope: "api")
    }

    private func success(scope: String, refreshToken: String? = nil) -> EmulatorResponse {
        let issuedAt = String(Int64(Date().timeIntervalSince1970 * 1000))
        let id = identityURL()
        return .json(
            200,
            .object((refreshToken.map { [("refresh_token", JSONValue.string($0))] } ?? []) + [
                ("access_token", .string(tokens.issue())),
                ("instance_url", .string(faults.takeHostileInstanceURL() ?? baseURL.withLock { $0 })),
                ("id", .string(id)),
                ("token_type", "Bearer"),
                ("issued_at", .string(issuedAt)),
                ("signature", .string(hmacSignature(id + issuedAt))),
                ("scope", .string(scope)),
            ]))
    }

    /// `GET /services/oauth2/userinfo` (OpenID Connect names) and the identity URL `GET /id/{org}/{user}`: who the
    /// token belongs to, in which org. After a sandbox refresh the org Id is the new one.
    func identity(_ request: EmulatorRequest, userinfo: Bool) -> EmulatorResponse {
        let header = request.header("Authorization") ?? ""
        let token = header.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
        guard tokens.isValid(token) else { return .error(401, "INVALID_SESSION_ID", "Session expired or invalid") }
        let user = SalesforceId.make(prefix: "005", index: 0)
        let org = tokens.orgId18
        let members: [(String, JSONValue)] =
            userinfo
            ? [("sub", .string(identityURL())), ("user_id", .string(user)), ("organization_id", .string(org)),
               ("preferred_username", .string(configuration.username)), ("active", true)]
            : [("id", .string(identityURL())), ("asserted_user", true), ("user_id", .string(user)),
               ("organization_id", .string(org)), ("username", .string(configuration.username)), ("active", true)]
        return .json(200, .object(members))
    }

    /// Base64 HMAC-SHA256 of `text` keyed with the client secret, as Salesforce signs `id` + `issued_at`.
    private func hmacSignature(_ text: String) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let key = Array(configuration.clientSecret.utf8)
        let data = Array(text.utf8)
        _ = HMAC(EVP_sha256(), key, Int32(key.count), data, data.count, &digest, &length)
        return Data(digest.prefix(Int(length))).base64EncodedString()
    }
}
