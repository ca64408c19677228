import Testing

@testable import SalesforceClient

/// Every URL the client checks or splits goes through ``CheckedURL/parse(_:)``: hosts, log paths, relative links.
@Suite struct URLParsingTests {
    @Test func logPathsDropTheQueryAndHost() {
        let page = HTTPRequest(
            method: "GET", url: "https://acme.my.salesforce.com:443/services/data/v62.0/jobs/query/750x/results?locator=MTA")
        #expect(page.loggablePath == "/services/data/v62.0/jobs/query/750x/results")
        let token = HTTPRequest(method: "POST", url: "http://127.0.0.1:8080/services/oauth2/token")
        #expect(token.loggablePath == "/services/oauth2/token")
        // A URL the client never sends to does not get split by a second, laxer rule.
        #expect(!HTTPRequest(method: "GET", url: "file:///etc/hostname").loggablePath.contains("etc"))
    }

    @Test func hostsComeFromTheStrictParser() {
        #expect(CheckedURL.host(of: "https://Login.Salesforce.com/") == "login.salesforce.com")
        #expect(CheckedURL.host(of: "http://[::1]:8080") == "[::1]")
        #expect(CheckedURL.host(of: "http://user@127.0.0.1") == nil)
        #expect(CheckedURL.host(of: "login.salesforce.com") == nil)
        #expect(TokenRequest.defaultAudience(loginURL: "https://TEST.salesforce.com/") == "https://test.salesforce.com")
    }

    /// The environment check and the policy read the URL with the same parser, so the message names the real
    /// reason (userinfo), not a guess at the host.
    @Test func aLoginURLWithUserinfoIsRefusedWithTheReason() throws {
        let environment = ["SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "s", "SF_LOGIN_URL": "http://user@127.0.0.1:9"]
        let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
        #expect(error.code == .configuration)
        #expect(error.message.contains("userinfo"))
    }

    @Test func relativeLinksAreParsedAsTheURLTheyBecome() throws {
        guard case .success(let instance) = CheckedURL.parse("http://127.0.0.1:8080") else {
            Issue.record("the instance URL did not parse")
            return
        }
        #expect(
            try URLPolicy.resolve("/services/data/v62.0/query/01gx-2000", instance: instance, what: "a link")
                == "http://127.0.0.1:8080/services/data/v62.0/query/01gx-2000")
        for bad in ["/services/data/v62.0/a b", "/services/data/v62.0/../x", "/services/data/v62.0/%2e", "/services/x"] {
            #expect(throws: SalesforceError.self, "\(bad)") { try URLPolicy.resolve(bad, instance: instance, what: "a link") }
        }
    }
}
