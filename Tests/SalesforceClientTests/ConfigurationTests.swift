import Testing

@testable import SalesforceClient

@Suite struct ConfigurationTests {
    let base = ["SF_LOGIN_URL": "https://example.my.salesforce.com", "SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "s3cret"]

    @Test func accessTokenWinsOverEverything() throws {
        var environment = base
        environment["SF_ACCESS_TOKEN"] = "00D!token"
        environment["SF_INSTANCE_URL"] = "https://example.my.salesforce.com/"
        environment["SF_USERNAME"] = "user"
        environment["SF_PASSWORD"] = "pw"
        environment["SF_REFRESH_TOKEN"] = "refresh"
        let configuration = try SalesforceConfiguration.fromEnvironment(environment)
        guard case let .accessToken(token, instance) = configuration.grant else {
            Issue.record("expected the access token grant, got \(configuration.grant.name)")
            return
        }
        #expect(token == "00D!token")
        #expect(instance == "https://example.my.salesforce.com")
    }

    @Test func accessTokenWithoutInstanceURLNamesTheVariable() throws {
        var environment = base
        environment["SF_ACCESS_TOKEN"] = "00D!token"
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("SF_INSTANCE_URL"))
        #expect(!error.description.contains("00D!token"))
    }

    @Test func privateKeyFileSelectsJWT() throws {
        let directory = try TemporaryDirectory()
        let keyPath = directory.path + "/key.pem"
        try "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n".write(toFile: keyPath)
        var environment = base
        environment["SF_PRIVATE_KEY_FILE"] = keyPath
        environment["SF_USERNAME"] = "user@example.com"
        environment["SF_PASSWORD"] = "ignored"
        environment["SF_REFRESH_TOKEN"] = "ignored"
        let configuration = try SalesforceConfiguration.fromEnvironment(environment)
        guard case let .jwtBearer(clientId, username, pem, audience) = configuration.grant else {
            Issue.record("expected JWT, got \(configuration.grant.name)")
            return
        }
        #expect(clientId == "id")
        #expect(username == "user@example.com")
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(audience == nil)
    }

    @Test func unreadableKeyFileIsAConfigurationError() throws {
        var environment = base
        environment["SF_PRIVATE_KEY_FILE"] = "/nonexistent/key.pem"
        environment["SF_USERNAME"] = "user@example.com"
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("/nonexistent/key.pem"))
    }

    @Test func refreshTokenBeatsPassword() throws {
        var environment = base
        environment["SF_REFRESH_TOKEN"] = "refresh"
        environment["SF_USERNAME"] = "user"
        environment["SF_PASSWORD"] = "pw"
        let configuration = try SalesforceConfiguration.fromEnvironment(environment)
        guard case let .refreshToken(_, secret, token) = configuration.grant else {
            Issue.record("expected refresh token, got \(configuration.grant.name)")
            return
        }
        #expect(secret == "s3cret")
        #expect(token == "refresh")
    }

    @Test func passwordGrantAppendsNothingUntilLogin() throws {
        var environment = base
        environment["SF_USERNAME"] = "user"
        environment["SF_PASSWORD"] = "pw"
        environment["SF_SECURITY_TOKEN"] = "tok"
        environment["SF_API_VERSION"] = "v61.0"
        let configuration = try SalesforceConfiguration.fromEnvironment(environment)
        guard case let .password(_, _, username, password, token) = configuration.grant else {
            Issue.record("expected password, got \(configuration.grant.name)")
            return
        }
        #expect(username == "user" && password == "pw" && token == "tok")
        #expect(configuration.apiVersion == "61.0")
    }

    @Test func passwordWithoutSecretListsWhatIsMissing() throws {
        let environment = ["SF_LOGIN_URL": "https://login.salesforce.com", "SF_USERNAME": "user", "SF_PASSWORD": "pw"]
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("SF_CLIENT_ID") && error.message.contains("SF_CLIENT_SECRET"))
        #expect(!error.description.contains("pw"))
    }

    @Test func clientIdAndSecretAloneSelectClientCredentials() throws {
        let configuration = try SalesforceConfiguration.fromEnvironment(base)
        guard case .clientCredentials = configuration.grant else {
            Issue.record("expected client credentials, got \(configuration.grant.name)")
            return
        }
        #expect(configuration.loginURL == "https://example.my.salesforce.com")
    }

    @Test func noCredentialsExplainsEveryOption() throws {
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment([:]) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("SF_ACCESS_TOKEN") && error.message.contains("SF_PRIVATE_KEY_FILE"))
    }

    @Test(arguments: ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:80", "https://login.salesforce.com"])
    func acceptsHTTPSOrLoopbackHTTP(url: String) throws {
        var environment = base
        environment["SF_LOGIN_URL"] = url
        let configuration = try SalesforceConfiguration.fromEnvironment(environment)
        #expect(configuration.loginURL == url)
    }

    @Test(arguments: ["http://login.salesforce.com", "http://10.0.0.1", "http://127.0.0.1.evil.com", "ftp://x", "login.salesforce.com"])
    func rejectsPlainHTTPOffLoopback(url: String) throws {
        var environment = base
        environment["SF_LOGIN_URL"] = url
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("SF_LOGIN_URL"))
    }

    @Test func rejectsNonLoopbackHTTPInstanceURL() throws {
        let environment = ["SF_ACCESS_TOKEN": "t", "SF_INSTANCE_URL": "http://example.com"]
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
        #expect(error.message.contains("SF_INSTANCE_URL"))
    }

    @Test func rejectsMalformedAPIVersion() throws {
        var environment = base
        environment["SF_API_VERSION"] = "sixty"
        #expect(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
    }

    @Test func formEncodingEscapesReservedCharacters() {
        #expect(TokenRequest.percentEncode("a b+c&d=é~") == "a%20b%2Bc%26d%3D%C3%A9~")
    }

    @Test func limitInfoIsParsedLeniently() {
        #expect(ApiUsage(limitInfoHeader: "api-usage=18/5000") == ApiUsage(used: 18, max: 5000))
        #expect(
            ApiUsage(limitInfoHeader: "per-app-api-usage=17/250(appName=sfpg); api-usage=25/15000")
                == ApiUsage(used: 25, max: 15000))
        #expect(ApiUsage(limitInfoHeader: "api-usage=garbage") == nil)
        #expect(ApiUsage(limitInfoHeader: "") == nil)
    }

    @Test func defaultJWTAudienceFollowsTheLoginHost() {
        #expect(TokenRequest.defaultAudience(loginURL: "https://test.salesforce.com") == "https://test.salesforce.com")
        #expect(TokenRequest.defaultAudience(loginURL: "https://acme.my.salesforce.com") == "https://login.salesforce.com")
    }
}

@Suite struct SecretRedactionTests {
    @Test func printingAConfigurationShowsNoSecrets() {
        let grants: [OAuthGrant] = [
            .password(clientId: "cid", clientSecret: "SECRET1", username: "u", password: "SECRET2", securityToken: "SECRET3"),
            .clientCredentials(clientId: "cid", clientSecret: "SECRET1"),
            .refreshToken(clientId: "cid", clientSecret: "SECRET1", refreshToken: "SECRET2"),
            .jwtBearer(clientId: "cid", username: "u", privateKeyPEM: "SECRET1", audience: nil),
            .accessToken(token: "SECRET1", instanceURL: "https://x.my.salesforce.com"),
        ]
        for grant in grants {
            let configuration = SalesforceConfiguration(loginURL: "https://login.salesforce.com", grant: grant)
            for text in [String(describing: configuration), String(reflecting: configuration), "\(grant)"] {
                #expect(!text.contains("SECRET"), "\(text)")
                #expect(text.contains("cid") || text.contains("x.my.salesforce.com"))
            }
        }
    }
}
