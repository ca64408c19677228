import Foundation
import Logging
import SalesforceClient
import SalesforceEmulator
import Synchronization
import Testing
import TestSupport

/// Issue #10, finding 4: a refresh token rotated by the token endpoint replaces the configured one for every later
/// login in the process; the configured one is revoked by then.
@Suite(.timeLimit(.minutes(3))) struct RefreshTokenRotationTests {
    private func refreshGrant(_ emulator: TestEmulator) -> OAuthGrant {
        .refreshToken(
            clientId: emulator.configuration.clientId, clientSecret: emulator.configuration.clientSecret,
            refreshToken: emulator.configuration.refreshToken)
    }

    @Test func aRotatedRefreshTokenIsUsedForTheNextLogin() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.rotateRefreshTokens = true }
        let storage = CapturedLog()
        let logger = storage.logger
        let client = SalesforceClient(
            configuration: emulator.clientConfiguration(grant: refreshGrant(emulator)), logger: logger)
        _ = try client.limits()
        #expect(emulator.emulator.issuedRefreshTokens.count == 1)

        // The session expires mid-run: the client logs in again, which needs the rotated token (the configured one
        // is revoked now).
        emulator.emulator.faults.expireTokens(afterAPICalls: 0)
        _ = try client.limits()
        let logins = emulator.requests("POST", containing: "/services/oauth2/token")
        #expect(logins.map(\.status) == [200, 200])
        #expect(emulator.emulator.issuedRefreshTokens.count == 2)

        // Another client of the same configuration in the same process (clean-up, parallel workers) too.
        let second = SalesforceClient(configuration: emulator.clientConfiguration(grant: refreshGrant(emulator)))
        try second.authenticate()
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").map(\.status) == [200, 200, 200])

        // Never logged, nor the configured one.
        let lines = storage.lines.withLock { $0.map(\.1) }
        #expect(!lines.isEmpty)
        for secret in emulator.emulator.issuedRefreshTokens + [emulator.configuration.refreshToken] {
            #expect(!lines.contains { $0.contains(secret) })
        }
    }

    @Test func theConfiguredTokenIsRevokedByRotation() throws {
        // The emulator side of rotation: presenting the configured token again after rotation fails, as with
        // Salesforce; this is what broke the second login before the client kept the rotated token.
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.rotateRefreshTokens = true }
        try emulator.client(grant: refreshGrant(emulator)).authenticate()
        let form = "grant_type=refresh_token&client_id=\(emulator.configuration.clientId)"
            + "&client_secret=\(emulator.configuration.clientSecret)&refresh_token=\(emulator.configuration.refreshToken)"
        let output = try TestSyncProcess.check("/usr/bin/curl", ["-sS", "-d", form, emulator.baseURL + "/services/oauth2/token"])
        #expect(String(decoding: output, as: UTF8.self).contains("invalid_grant"))
    }

    @Test func withoutRotationTheConfiguredTokenKeepsWorking() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let client = emulator.client(grant: refreshGrant(emulator))
        _ = try client.limits()
        emulator.emulator.faults.expireTokens(afterAPICalls: 0)
        _ = try client.limits()
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").map(\.status) == [200, 200])
        #expect(emulator.emulator.issuedRefreshTokens.isEmpty)
    }
}
