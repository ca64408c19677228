import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct AuthenticationTests {
    /// Proves a token works by calling the API with it.
    private func expectWorkingSession(_ client: SalesforceClient, emulator: TestEmulator) throws {
        try client.authenticate()
        #expect(client.instanceURL == emulator.baseURL)
        #expect(client.apiCallCount == 0)
        let limits = try client.limits()
        #expect(limits["DailyApiRequests"]?.max == emulator.configuration.dailyApiRequests)
        #expect(client.apiCallCount == 1)
    }

    @Test func passwordGrantLogsIn() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        try expectWorkingSession(emulator.client(), emulator: emulator)
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").count == 1)
    }

    @Test func wrongPasswordSaysWhatToCheckWithoutSecrets() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let grant = OAuthGrant.password(
            clientId: emulator.configuration.clientId, clientSecret: emulator.configuration.clientSecret,
            username: emulator.configuration.username, password: "Wr0ngPassw0rd", securityToken: "t0kenXYZ")
        let error = try #require(throws: SalesforceError.self) { try emulator.client(grant: grant).authenticate() }
        #expect(error.code == .authentication)
        #expect(error.errorCode == "invalid_grant")
        #expect(error.httpStatus == 400)
        #expect(error.message.contains("SF_PASSWORD") && error.message.contains("SF_SECURITY_TOKEN"))
        for secret in ["Wr0ngPassw0rd", "t0kenXYZ", emulator.configuration.clientSecret] {
            #expect(!error.description.contains(secret))
        }
    }

    @Test func clientCredentialsGrantLogsIn() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let grant = OAuthGrant.clientCredentials(
            clientId: emulator.configuration.clientId, clientSecret: emulator.configuration.clientSecret)
        try expectWorkingSession(emulator.client(grant: grant), emulator: emulator)
    }

    @Test func wrongClientSecretPointsAtTheConnectedApp() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let grant = OAuthGrant.clientCredentials(clientId: emulator.configuration.clientId, clientSecret: "n0pe-secret")
        let error = try #require(throws: SalesforceError.self) { try emulator.client(grant: grant).authenticate() }
        #expect(error.code == .authentication)
        #expect(error.message.contains("SF_CLIENT_SECRET"))
        #expect(!error.description.contains("n0pe-secret"))
    }

    @Test func refreshTokenGrantLogsIn() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let grant = OAuthGrant.refreshToken(
            clientId: emulator.configuration.clientId, clientSecret: emulator.configuration.clientSecret,
            refreshToken: emulator.configuration.refreshToken)
        try expectWorkingSession(emulator.client(grant: grant), emulator: emulator)
    }

    @Test func revokedRefreshTokenSaysSo() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let grant = OAuthGrant.refreshToken(
            clientId: emulator.configuration.clientId, clientSecret: emulator.configuration.clientSecret,
            refreshToken: "revoked-refresh-123")
        let error = try #require(throws: SalesforceError.self) { try emulator.client(grant: grant).authenticate() }
        #expect(error.code == .authentication)
        #expect(error.message.contains("SF_REFRESH_TOKEN"))
        #expect(!error.description.contains("revoked-refresh-123"))
    }

    @Test func jwtBearerGrantLogsInWithAnOpenSSLKey() throws {
        let directory = try TemporaryDirectory()
        let keys = try RSAKeyPair(in: directory)
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.jwtPublicKeyPEM = keys.publicKeyPEM }
        let grant = OAuthGrant.jwtBearer(
            clientId: emulator.configuration.clientId, username: emulator.configuration.username,
            privateKeyPEM: keys.privateKeyPEM, audience: nil)
        try expectWorkingSession(emulator.client(grant: grant), emulator: emulator)
    }

    @Test func jwtSignedWithTheWrongKeyIsRefused() throws {
        let directory = try TemporaryDirectory()
        let registered = try RSAKeyPair(in: directory)
        let other = try TemporaryDirectory()
        let wrong = try RSAKeyPair(in: other)
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.jwtPublicKeyPEM = registered.publicKeyPEM }
        let grant = OAuthGrant.jwtBearer(
            clientId: emulator.configuration.clientId, username: emulator.configuration.username,
            privateKeyPEM: wrong.privateKeyPEM, audience: nil)
        let error = try #require(throws: SalesforceError.self) { try emulator.client(grant: grant).authenticate() }
        #expect(error.code == .authentication)
        #expect(error.message.contains("SF_PRIVATE_KEY_FILE"))
        #expect(!error.description.contains("PRIVATE KEY"))
    }

    @Test func accessTokenIsUsedAsIs() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let token = try issueToken(emulator)
        let client = emulator.client(grant: .accessToken(token: token, instanceURL: emulator.baseURL + "/"))
        #expect(client.instanceURL == emulator.baseURL)
        _ = try client.limits()
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").count == 1)
    }

    @Test func organizationIdComesFromTheTokenResponse() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let client = emulator.client()
        #expect(try client.organizationId().value == emulator.emulator.organizationId)
        #expect(emulator.requests("GET", containing: "/userinfo").isEmpty)
    }

    @Test func fixedAccessTokenAsksUserinfoForTheOrgOnce() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let token = try issueToken(emulator)
        let client = emulator.client(grant: .accessToken(token: token, instanceURL: emulator.baseURL))
        #expect(try client.organizationId().value == emulator.emulator.organizationId)
        #expect(try client.organizationId().value == emulator.emulator.organizationId)
        #expect(emulator.requests("GET", containing: "/services/oauth2/userinfo").count == 1)
    }

    @Test func organizationIdsCompareAsSalesforceMeansThem() throws {
        let url = "https://login.salesforce.com/id/00D5g000004cYzKEAU/0055g00000BcDeFAAV"
        let org = try #require(OrganizationId(identityURL: url))
        #expect(org.value == "00D5g000004cYzKEAU")
        #expect(org.sameOrg(as: OrganizationId("00D5g000004cYzK")))
        #expect(org.sameOrg(as: OrganizationId("00d5G000004CyZkeau")))
        #expect(!org.sameOrg(as: OrganizationId("00D5g000004cYzk")))
        #expect(!org.sameOrg(as: OrganizationId("00D5g000004cYzLEAU")))
        #expect(OrganizationId(identityURL: "https://login.salesforce.com/services/oauth2/token") == nil)
    }

    @Test func expiredAccessTokenCannotBeRenewed() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let client = emulator.client(grant: .accessToken(token: "00Dbogus!expired-token-value", instanceURL: emulator.baseURL))
        let error = try #require(throws: SalesforceError.self) { try client.limits() }
        #expect(error.code == .invalidSession)
        #expect(error.httpStatus == 401)
        #expect(error.message.contains("SF_ACCESS_TOKEN"))
        #expect(!error.description.contains("expired-token-value"))
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").isEmpty)
    }

    /// Gets a token over plain HTTP, as a user would with curl.
    private func issueToken(_ emulator: TestEmulator) throws -> String {
        let form = "grant_type=password&client_id=\(emulator.configuration.clientId)"
            + "&client_secret=\(emulator.configuration.clientSecret)&username=\(emulator.configuration.username)"
            + "&password=\(emulator.configuration.password)\(emulator.configuration.securityToken)"
        let output = try TestSyncProcess.check(
            "/usr/bin/curl", ["-sS", "--fail", "-d", form, emulator.baseURL + "/services/oauth2/token"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [String: Any])
        return try #require(json["access_token"] as? String)
    }
}
