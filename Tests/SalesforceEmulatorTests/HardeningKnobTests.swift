import Foundation
import SalesforceEmulator
import TestSupport
import Testing

/// The emulator knobs issue #10's client tests rely on, checked over the wire with curl (no sfpg code).
@Suite struct HardeningKnobTests {
    let json = ["Content-Type": "application/json"]

    @Test func hostileResultLinksReplaceLinksAndNextURL() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 30 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id FROM Contact")
        emulator.faults.hostileResultLinks("@127.0.0.1:9/steal", count: 1, placement: .pageLinks)
        let links = try session.get("/jobs/query/\(id)/resultPages?maxRecords=10").object()
        let pages = try #require(links["resultPages"] as? [[String: Any]])
        #expect(pages.count == 3 && pages.allSatisfy { $0["resultLink"] as? String == "@127.0.0.1:9/steal" })
        #expect(links["done"] as? Bool == true)
        // Through the admin API, the next-page URL only.
        let admin = "\(emulator.baseURL)/__emulator/faults"
        let body = #"{"kind":"hostileResultLinks","link":"http://elsewhere.invalid/x","placement":"nextRecordsUrl"}"#
        #expect(try Curl.request("POST", admin, headers: json, body: body).status == 200)
        let next = try session.get("/jobs/query/\(id)/resultPages?maxRecords=10").object()
        #expect(next["nextRecordsUrl"] as? String == "http://elsewhere.invalid/x")
        #expect(next["done"] as? Bool == false)
        #expect(((next["resultPages"] as? [[String: Any]])?.first?["resultLink"] as? String)?.hasPrefix("/services/data/") == true)
        // Counted: the next listing is normal again.
        #expect(try session.get("/jobs/query/\(id)/resultPages?maxRecords=10").object()["done"] as? Bool == true)
    }

    @Test func hostileInstanceURLAndDescribePadding() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let form = Curl.form([
            ("grant_type", "password"), ("client_id", "sfpg-emulator-client"), ("client_secret", "emulator-secret"),
            ("username", "integration@sfpg.example"), ("password", "emulator-passwordemulatorToken"),
        ])
        func login() throws -> String? {
            try Curl.request(
                "POST", "\(emulator.baseURL)/services/oauth2/token",
                headers: ["Content-Type": "application/x-www-form-urlencoded"], body: form
            ).object()["instance_url"] as? String
        }
        emulator.faults.hostileInstanceURL("https://evil.invalid")
        #expect(try login() == "https://evil.invalid")
        #expect(try login() == emulator.baseURL)

        let session = try Session(emulator)
        let plain = try session.get("/sobjects/Contact/describe")
        emulator.faults.padDescribe(bytes: 1_500_000)
        let padded = try session.get("/sobjects/Contact/describe")
        #expect(padded.body.count > plain.body.count + 1_500_000)
        #expect((try padded.object()["fields"] as? [Any])?.count == (try plain.object()["fields"] as? [Any])?.count)
    }

    @Test func refreshTokenRotationRevokesTheUsedToken() async throws {
        let emulator = try await TestEmulator.start { $0.rotateRefreshTokens = true }
        defer { try? emulator.shutdownBlocking() }
        func refresh(_ token: String) throws -> CurlResponse {
            try Curl.request(
                "POST", "\(emulator.baseURL)/services/oauth2/token",
                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Curl.form([
                    ("grant_type", "refresh_token"), ("client_id", "sfpg-emulator-client"), ("refresh_token", token),
                ]))
        }
        let first = try refresh("emulator-refresh-token")
        let rotated = try #require(try first.object()["refresh_token"] as? String)
        #expect(rotated != "emulator-refresh-token")
        #expect(try refresh("emulator-refresh-token").status == 400)
        let second = try refresh(rotated)
        #expect(second.status == 200)
        #expect(try refresh(rotated).status == 400)
        #expect(emulator.issuedRefreshTokens.count == 2)
    }
}
