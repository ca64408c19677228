/// One call to Salesforce, described before anything is sent: what to send where, what the answer is for, and
/// whether the access token may go with it. ``SalesforceClient/send(_:)`` turns it into bytes in one place
/// (``httpRequest(session:)``) and applies one ``RetryPolicy`` to every request.
struct APIRequest {
    enum Method: String {
        case get = "GET", post = "POST", patch = "PATCH", delete = "DELETE"
    }

    /// Where the request goes, which decides whether it carries the token.
    enum Target {
        /// A path under `/services/data/` or a link from a response: resolved against the instance by ``URLPolicy``
        /// and refused if it leaves it, so the bearer token it carries reaches the instance's host only.
        case instance(String)
        /// The OAuth token endpoint under the (checked) login URL: it gets credentials, never the access token.
        case tokenEndpoint(loginURL: String)
    }

    /// What the answer is for: it picks the `Accept` header and compression, and what a refused request means.
    enum Purpose {
        case token(OAuthGrant, loginURL: String)
        case createQueryJob
        /// A REST `query`/`queryAll` batch: a refused SOQL is an invalid query.
        case restQuery
        /// Job status, abort, delete, limits, a listing: a refusal keeps the generic message.
        case control
        case describe(object: String)
        /// Result page `number` (CSV, asked for gzip, streamed).
        case resultPage(number: Int, apiVersion: String)
    }

    /// A request body and the `Content-Type` that goes with it.
    enum Body {
        case json([UInt8])
        case form([UInt8])

        var contentType: String {
            switch self {
            case .json: "application/json; charset=UTF-8"
            case .form: "application/x-www-form-urlencoded"
            }
        }

        var bytes: [UInt8] {
            switch self {
            case .json(let bytes), .form(let bytes): bytes
            }
        }
    }

    var method: Method
    var target: Target
    var purpose: Purpose
    var body: Body?
    /// Extra header lines (`Sforce-Query-Options: batchSize=500`); never `Authorization`, which is added only for
    /// instance targets.
    var headers: [String] = []
    /// `false` for the clean-up requests sent after cancellation (abort, delete).
    var honorsCancellation = true
    /// Receives a 2xx body as it arrives instead of buffering it (result pages).
    var stream: (any ResponseStream)?

    /// Whether the bearer token goes with the request: every request but the one that obtains it.
    var carriesToken: Bool {
        if case .tokenEndpoint = target { return false }
        return true
    }

    /// Response headers read besides the body.
    var responseHeaders: [String] {
        var names = ["Retry-After"]
        if carriesToken { names.append("Sforce-Limit-Info") }
        if case .resultPage = purpose { names += ["Sforce-Locator", "Sforce-NumberOfRecords"] }
        // Salesforce's clock when a REST query ran: the snapshot time of a read that has no Bulk job.
        if case .restQuery = purpose { names.append("Date") }
        return names
    }

    /// The request as libcurl sends it. The URL is resolved against the instance before the token is added, so
    /// a link that would take it elsewhere fails here, before a byte is sent.
    /// - Throws: `.protocolViolation` for a target off the instance; `.invalidSession` without a session.
    func httpRequest(session: SalesforceClient.Session?) throws -> HTTPRequest {
        var headers: [String] = []
        let url: String
        switch target {
        case .instance(let path):
            guard let session else { throw SalesforceError(code: .invalidSession, message: "Not authenticated.") }
            url = try URLPolicy.resolve(path, instance: session.instance, what: "the request URL")
            headers.append("Authorization: Bearer \(session.accessToken)")
        case .tokenEndpoint(let loginURL):
            url = loginURL + "/services/oauth2/token"
        }
        if case .resultPage = purpose {
            // Exactly "gzip": Salesforce compresses only when asked with that token. Only result pages are worth
            // it; ``TransferContext`` decodes and verifies them.
            headers += ["Accept: text/csv", "Accept-Encoding: gzip"]
        } else {
            headers.append("Accept: application/json")
        }
        if let body { headers.append("Content-Type: \(body.contentType)") }
        headers += self.headers.filter { !$0.lowercased().hasPrefix("authorization:") }
        return HTTPRequest(method: method.rawValue, url: url, headers: headers, body: body?.bytes)
    }

    /// `path` with `query` appended, every name and value percent-encoded: values from responses (a locator)
    /// can neither add parameters nor end the query.
    static func path(_ path: String, query: [(String, String)]) -> String {
        guard !query.isEmpty else { return path }
        let pairs = query.map { "\(TokenRequest.percentEncode($0.0))=\(TokenRequest.percentEncode($0.1))" }
        return path + "?" + pairs.joined(separator: "&")
    }
}

/// Receives a streamed 2xx body (a result page) as it arrives, and judges it once it has ended.
protocol ResponseStream: AnyObject {
    /// Decoded body bytes, valid only during the call.
    func receive(_ bytes: UnsafeRawBufferPointer) throws
    /// Why the finished body cannot be used (records short of `Sforce-NumberOfRecords`, a cut last record), or
    /// `nil`. A reason makes the response an incomplete body, retried like a dropped one.
    func problem(in response: HTTPResponse) -> String?
    /// This attempt is abandoned and the request will be sent again from its start.
    func restart() throws
}
