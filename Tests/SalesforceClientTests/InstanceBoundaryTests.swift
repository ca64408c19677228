import Foundation
import SalesforceEmulator
import Testing
import TestSupport

@testable import SalesforceClient

/// Issue #10, finding 1: URLs from responses must never take the access token off the instance.
@Suite(.timeLimit(.minutes(3))) struct InstanceBoundaryTests {
    /// A completed Contact job on `emulator`, and the client that made it.
    private func completedJob(_ emulator: TestEmulator) throws -> (SalesforceClient, String) {
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        _ = try client.waitForCompletion(job.id)
        return (client, job.id)
    }

    /// Hostile links, `{cap}` = the other listener's port, `{emu}` = the emulator's.
    static let hostileLinks = [
        "@127.0.0.1:{cap}/services/data/v62.0/steal",
        "http://127.0.0.1:{cap}/services/data/v62.0/jobs/query/x/results",
        "//127.0.0.1:{cap}/services/data/v62.0/jobs/query/x/results",
        "http://127.0.0.1:{emu}@127.0.0.1:{cap}/services/data/v62.0/x",
        "http://localhost:{cap}/services/data/v62.0/x",
        "\\\\127.0.0.1:{cap}/services/data/v62.0/x",
        "/services/data/../../steal",
        "/services/data/v62.0/%2e%2e/%2e%2e/steal",
        "/steal",
        "https://127.0.0.1:{emu}/services/data/v62.0/x",
        "/services/data/v62.0/x\r\nX-Injected: 1",
    ]

    private func fill(_ template: String, cap: CapturingListener, emulator: TestEmulator) -> String {
        template.replacingOccurrences(of: "{cap}", with: String(cap.port))
            .replacingOccurrences(of: "{emu}", with: String(emulator.emulator.port))
    }

    @Test(arguments: hostileLinks)
    func hostileResultPageLinksAreRefused(template: String) throws {
        let other = try CapturingListener()
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 30 }
        let (client, jobId) = try completedJob(emulator)
        let link = fill(template, cap: other, emulator: emulator)
        emulator.emulator.faults.hostileResultLinks(link, placement: .pageLinks)
        let error = try #require(throws: SalesforceError.self) {
            _ = try client.resultPageLinks(jobId, maxRecords: 10, expectedRecords: 30)
        }
        #expect(error.code == .protocolViolation)
        if template.contains("{cap}") { #expect(error.message.contains("127.0.0.1:\(other.port)") || error.message.contains("localhost")) }
        // The send-level check holds on its own too: the parallel download refuses the link before any request.
        let consumer = HashingConsumer()
        let direct = try #require(throws: SalesforceError.self) {
            _ = try client.downloadResults(
                jobId, links: [link], expectedRecords: 30, connections: 2, maxPagesInFlight: 2, into: consumer)
        }
        #expect(direct.code == .protocolViolation)
        #expect(consumer.events.isEmpty)
        for token in emulator.emulator.issuedAccessTokens {
            #expect(!error.description.contains(token) && !direct.description.contains(token))
        }
        other.stop()
        #expect(other.connections == 0, "the other host got: \(other.receivedText)")
    }

    @Test(arguments: ["@127.0.0.1:{cap}/services/data/v62.0/steal", "http://127.0.0.1:{cap}/services/data/v62.0/x"])
    func hostileNextRecordsURLIsRefused(template: String) throws {
        let other = try CapturingListener()
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 30 }
        let (client, jobId) = try completedJob(emulator)
        emulator.emulator.faults.hostileResultLinks(fill(template, cap: other, emulator: emulator), placement: .nextRecordsUrl)
        let error = try #require(throws: SalesforceError.self) {
            _ = try client.resultPageLinks(jobId, maxRecords: 10, expectedRecords: 30)
        }
        #expect(error.code == .protocolViolation)
        #expect(error.message.contains("127.0.0.1:\(other.port)"))
        other.stop()
        #expect(other.connections == 0, "the other host got: \(other.receivedText)")
    }

    @Test func anAbsoluteLinkOnTheInstanceIsFollowed() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 30 }
        let (client, jobId) = try completedJob(emulator)
        // Same scheme, host and port, spelled differently (scheme case): still the instance.
        let link = emulator.baseURL.replacingOccurrences(of: "http://", with: "HTTP://")
            + "/services/data/v62.0/jobs/query/\(jobId)/results?maxRecords=100"
        emulator.emulator.faults.hostileResultLinks(link, placement: .pageLinks)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 100, expectedRecords: 30))
        #expect(links == [link])
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(
            jobId, links: links, expectedRecords: 30, connections: 1, maxPagesInFlight: 1, into: consumer)
        #expect(summary.records == 30)
    }

    @Test(arguments: ["https://[::ffff:127.0.0.1]:{cap}", "http://127.0.0.1:{emu}@127.0.0.1:{cap}", "http://127.0.0.1:{cap}/x"])
    func hostileInstanceURLFromTheTokenResponseIsRefused(template: String) throws {
        let other = try CapturingListener()
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.hostileInstanceURL(fill(template, cap: other, emulator: emulator))
        let client = emulator.client()
        let error = try #require(throws: SalesforceError.self) { _ = try client.limits() }
        #expect(error.code == .protocolViolation)
        #expect(error.message.contains("instance_url"))
        #expect(error.message.contains("127.0.0.1"))
        for token in emulator.emulator.issuedAccessTokens { #expect(!error.description.contains(token)) }
        other.stop()
        #expect(other.connections == 0, "the other host got: \(other.receivedText)")
    }

    @Test func libcurlRefusesOtherProtocolsAndNeverFollowsRedirects() throws {
        let other = try CapturingListener()
        let redirector = try CapturingListener(
            response: "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:\(other.port)/services/data/x\r\n"
                + "Content-Length: 0\r\n\r\n")
        let settings = TransportSettings(caBundlePath: nil, connectTimeoutSeconds: 5, lowSpeedTimeSeconds: 10)
        func get(_ url: String) throws -> HTTPResponse {
            try CurlEasyHandle().perform(
                HTTPRequest(method: "GET", url: url, headers: ["Authorization: Bearer not-a-real-token"]),
                settings: settings, cancellation: CancellationFlag(), honorCancellation: true, responseHeaders: [])
        }
        // CURLE_UNSUPPORTED_PROTOCOL: refused before any connection or file access.
        #expect(try get("file:///etc/hostname").curlCode == 1)
        #expect(try get("ftp://127.0.0.1:\(other.port)/x").curlCode == 1)
        #expect(try get("gopher://127.0.0.1:\(other.port)/x").curlCode == 1)
        let redirected = try get("http://127.0.0.1:\(redirector.port)/services/data/y")
        #expect(redirected.status == 302)
        redirector.stop()
        other.stop()
        #expect(other.connections == 0, "the other host got: \(other.receivedText)")
    }

    @Test func curlProtocolsAllowHTTPOnlyOnLoopback() {
        #expect(URLPolicy.curlProtocols(for: "http://127.0.0.1:8080/x") == "http,https")
        #expect(URLPolicy.curlProtocols(for: "http://localhost/x") == "http,https")
        #expect(URLPolicy.curlProtocols(for: "http://[::1]:9/x") == "http,https")
        #expect(URLPolicy.curlProtocols(for: "http://example.my.salesforce.com/x") == "https")
        #expect(URLPolicy.curlProtocols(for: "https://example.my.salesforce.com/x") == "https")
        #expect(URLPolicy.curlProtocols(for: "http://127.0.0.1.evil.example/x") == "https")
    }

    @Test func resolveKeepsLinksOnTheInstance() throws {
        guard case .success(let instance) = CheckedURL.parse("https://Acme.my.salesforce.com") else {
            Issue.record("the instance URL did not parse")
            return
        }
        func resolve(_ link: String) throws -> String { try URLPolicy.resolve(link, instance: instance, what: "a link") }
        #expect(try resolve("/services/data/v62.0/jobs/query/750/results?locator=a%2Fb") ==
            "https://acme.my.salesforce.com/services/data/v62.0/jobs/query/750/results?locator=a%2Fb")
        #expect(try resolve("HTTPS://ACME.MY.SALESFORCE.COM:443/services/data/v62.0/x") ==
            "https://acme.my.salesforce.com/services/data/v62.0/x")
        for bad in [
            "https://evil.example/services/data/v62.0/x", "@evil.example/steal", "https://acme.my.salesforce.com@evil.example/services/data/",
            "https://acme.my.salesforce.com:8443/services/data/v62.0/x", "http://acme.my.salesforce.com/services/data/v62.0/x",
            "https://acme.my.salesforce.com/other", "https://acme.my.salesforce.com.evil.example/services/data/",
            "/services/data/./x", "/services/data/v62.0/x#frag", "/services/data/v62.0/é", "services/data/v62.0/x",
            "javascript:alert(1)", "",
        ] {
            #expect(throws: SalesforceError.self, "\(bad)") { try resolve(bad) }
        }
        let error = try #require(throws: SalesforceError.self) { try resolve("https://evil.example/services/data/") }
        #expect(error.code == .protocolViolation)
        #expect(error.message.contains("evil.example"))
    }

    @Test func instanceHostsMustBeSalesforceOrLoopback() throws {
        func check(_ url: String, allowAny: Bool = false) throws {
            _ = try URLPolicy.checkHost(url, what: "instance_url", allowAnyHost: allowAny, allowPath: false)
        }
        for good in [
            "https://acme.my.salesforce.com", "https://acme--dev.sandbox.my.salesforce.com/", "https://ACME.MY.SALESFORCE.COM",
            "https://na1.salesforce.com", "https://acme.lightning.force.com", "https://acme.my.site.com",
            "https://x.my.salesforce.mil", "https://x.my.sfcrmproducts.cn", "https://x.cloudforce.com",
            "https://x.database.com", "https://x.my.salesforce-setup.com", "http://127.0.0.1:8080", "http://localhost:1",
            "http://[::1]:2", "https://127.0.0.5",
        ] {
            #expect(throws: Never.self, "\(good)") { try check(good) }
        }
        for bad in [
            "https://evil.example", "https://salesforce.com.evil.example", "https://evilsalesforce.com", "https://salesforce.com",
            "http://acme.my.salesforce.com", "https://user@acme.my.salesforce.com", "https://acme.my.salesforce.com/path",
            "https://[::ffff:127.0.0.1]:9", "https://acme.my.salesforce.com./", "ftp://acme.my.salesforce.com",
            "https://acme.my.salesforce.com?x=1",
        ] {
            let error = try #require(throws: SalesforceError.self, "\(bad)") { try check(bad) }
            #expect(error.code == .protocolViolation)
        }
        let error = try #require(throws: SalesforceError.self) { try check("https://gateway.corp.example") }
        #expect(error.message.contains("gateway.corp.example") && error.message.contains("SF_ALLOW_ANY_INSTANCE_HOST"))
        #expect(throws: Never.self) { try check("https://gateway.corp.example", allowAny: true) }
        // The opt-out is about the host only: cleartext and userinfo stay refused.
        #expect(throws: SalesforceError.self) { try check("http://gateway.corp.example", allowAny: true) }
        #expect(throws: SalesforceError.self) { try check("https://u@gateway.corp.example", allowAny: true) }
    }

    @Test func environmentChecksTheLoginAndInstanceHosts() throws {
        let base = ["SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "secret"]
        var environment = base
        environment["SF_LOGIN_URL"] = "https://login.evil.example"
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("SF_LOGIN_URL") && error.message.contains("login.evil.example"))
        environment["SF_ALLOW_ANY_INSTANCE_HOST"] = "1"
        let allowed = try SalesforceConfiguration.fromEnvironment(environment)
        #expect(allowed.allowAnyInstanceHost)

        let token = ["SF_ACCESS_TOKEN": "00D!secret-token", "SF_INSTANCE_URL": "https://x.my.salesforce.com@evil.example"]
        let rejected = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(token) }
        #expect(rejected.code == .configuration)
        #expect(rejected.message.contains("evil.example"))
        #expect(!rejected.description.contains("secret-token"))
    }

    /// A configuration built in code (no environment) is held to the same rule when the client uses it.
    @Test func aConfiguredInstanceOffSalesforceIsRefusedBeforeAnyRequest() throws {
        let other = try CapturingListener()
        let configuration = SalesforceConfiguration(
            loginURL: "https://login.salesforce.com",
            grant: .accessToken(token: "00D!secret-token", instanceURL: "https://[::ffff:127.0.0.1]:\(other.port)"))
        let client = SalesforceClient(configuration: configuration)
        let error = try #require(throws: SalesforceError.self) { _ = try client.limits() }
        #expect(error.code == .protocolViolation)
        #expect(!error.description.contains("secret-token"))
        other.stop()
        #expect(other.connections == 0)
    }
}

/// The locator chain's `Sforce-Locator` is a response value too: it is percent-encoded into the next URL, so it can
/// neither add query parameters nor end the query.
@Suite(.timeLimit(.minutes(3))) struct LocatorEncodingTests {
    @Test func aHostileLocatorStaysOneQueryValue() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 30 }
        let client = emulator.client()
        let job = try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
        emulator.emulator.faults.hostileLocator("x&maxRecords=1#@127.0.0.1:9/steal")
        let error = try #require(throws: SalesforceError.self) {
            _ = try client.downloadResults(job.id, maxRecords: 10, expectedRecords: 30, into: HashingConsumer())
        }
        // The emulator cannot decode it and says so; what matters is what was asked.
        #expect(error.httpStatus == 400)
        let second = try #require(emulator.requests("GET", containing: "/results").dropFirst().first)
        #expect(second.query == "maxRecords=10&locator=x%26maxRecords%3D1%23%40127.0.0.1%3A9%2Fsteal")
    }
}
