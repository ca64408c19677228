import Foundation

/// The form body for one OAuth grant, and what went wrong in terms the user can act on.
struct TokenRequest {
    var form: [(String, String)]

    init(grant: OAuthGrant, loginURL: String) throws {
        switch grant {
        case let .password(clientId, clientSecret, username, password, securityToken):
            form = [
                ("grant_type", "password"), ("client_id", clientId), ("client_secret", clientSecret),
                ("username", username), ("password", password + (securityToken ?? "")),
            ]
        case let .clientCredentials(clientId, clientSecret):
            form = [("grant_type", "client_credentials"), ("client_id", clientId), ("client_secret", clientSecret)]
        case let .refreshToken(clientId, clientSecret, refreshToken):
            form = [("grant_type", "refresh_token"), ("client_id", clientId)]
            if let clientSecret { form.append(("client_secret", clientSecret)) }
            form.append(("refresh_token", refreshToken))
        case let .jwtBearer(clientId, username, privateKeyPEM, audience):
            let assertion = try JWTAssertion.make(
                clientId: clientId, username: username,
                audience: audience ?? Self.defaultAudience(loginURL: loginURL), privateKeyPEM: privateKeyPEM)
            form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)]
        case .accessToken:
            form = []
        }
    }

    /// Salesforce expects the generic login host as audience even when the token is requested from a My Domain.
    static func defaultAudience(loginURL: String) -> String {
        if let host = CheckedURL.host(of: loginURL), host == "login.salesforce.com" || host == "test.salesforce.com" {
            return "https://" + host
        }
        return "https://login.salesforce.com"
    }

    var encodedBody: [UInt8] {
        Array(form.map { "\(Self.percentEncode($0.0))=\(Self.percentEncode($0.1))" }.joined(separator: "&").utf8)
    }

    /// `application/x-www-form-urlencoded` with everything but RFC 3986 unreserved characters escaped.
    static func percentEncode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    private static let unreserved = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// Turns an OAuth error into advice for the grant in use; never includes secret values.
    static func failure(grant: OAuthGrant, status: Int, server: ServerError?, loginURL: String) -> SalesforceError {
        let description = server?.message ?? "no error description"
        let advice: String
        switch grant {
        case .password:
            advice = "Check SF_USERNAME, SF_PASSWORD + SF_SECURITY_TOKEN (the token is appended to the password), "
                + "SF_CLIENT_ID/SF_CLIENT_SECRET, SF_LOGIN_URL (login vs test vs My Domain), and that the Connected "
                + "App allows the username-password flow."
        case .clientCredentials:
            advice = "Check SF_CLIENT_ID/SF_CLIENT_SECRET, that SF_LOGIN_URL is the org's My Domain URL (not "
                + "login/test.salesforce.com), and that the Connected App has the client credentials flow enabled "
                + "with a run-as user."
        case .refreshToken:
            advice = "Check SF_REFRESH_TOKEN (it may have been revoked or expired), SF_CLIENT_ID/SF_CLIENT_SECRET "
                + "and SF_LOGIN_URL."
        case .jwtBearer:
            advice = "Check SF_CLIENT_ID (consumer key), SF_USERNAME, that SF_PRIVATE_KEY_FILE matches the "
                + "certificate uploaded to the Connected App, that the user is pre-authorized for the app, and the "
                + "audience (SF_JWT_AUDIENCE; default https://login.salesforce.com or https://test.salesforce.com)."
        case .accessToken:
            advice = "Get a new SF_ACCESS_TOKEN."
        }
        return SalesforceError(
            code: .authentication,
            message: "Salesforce refused the \(grant.name) login at \(loginURL): \(description). \(advice)",
            httpStatus: status, errorCode: server?.errorCode)
    }
}
