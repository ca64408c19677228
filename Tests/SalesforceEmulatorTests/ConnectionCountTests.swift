import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@Suite struct ConnectionCountTests {
    /// Clients' connection reuse is judged by these numbers, so they must count TCP accepts, not requests.
    @Test func countsAcceptedConnectionsAndTagsEachRequestWithItsConnection() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 10 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let limits = "\(session.base)/services/data/v\(session.version)/limits"
        // One curl process, three URLs: curl keeps the connection alive between them.
        let reused = try Curl.request(
            "GET", limits, headers: session.auth, curlArguments: ["-o", "/dev/null", limits, "-o", "/dev/null", limits])
        #expect(reused.exitCode == 0)

        let log = emulator.requests
        let limitsPath = "/services/data/v\(session.version)/limits"
        #expect(log.map(\.path) == ["/services/oauth2/token", limitsPath, limitsPath, limitsPath])
        #expect(log.map(\.connection) == [1, 2, 2, 2])
        #expect(emulator.acceptedConnections == 2)
        // The admin API reports it too, counting the connection the question came on.
        let answer = try Curl.request("GET", "\(session.base)/__emulator/connections").object()
        #expect((answer["accepted"] as? Int) == 3)
        let logged = try Curl.request("GET", "\(session.base)/__emulator/requests")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(logged.body)) as? [[String: Any]])
        #expect(listed.compactMap { $0["connection"] as? Int } == [1, 2, 2, 2])
    }
}
