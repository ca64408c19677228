import Foundation
import Logging

extension SalesforceClient {
    /// Sends one API request with authentication, re-authentication and retries.
    ///
    /// - Parameters:
    ///   - target: a path on the instance (`/services/data/…`) or an absolute URL on it; anything else (another
    ///     host, userinfo, `..`) is refused with `.protocolViolation` before a byte is sent.
    ///   - sink: receives the decoded body of a 2xx response as it arrives (else the body is buffered).
    ///   - beforeRetry: runs before the request is repeated, e.g. to discard a half-consumed page.
    ///   - honorCancellation: `false` for the clean-up requests sent after cancellation (abort).
    ///   - describeFailure: maps a non-retryable 4xx to a specific error; `nil` keeps the generic one.
    ///   - validate: checks a 2xx response; a returned reason makes it a retryable incomplete body. A streamed body
    ///     whose end is not provable is one too, before `validate` runs. After the retries: `.incompleteResults`.
    func send(
        _ method: String, _ target: String, body: [UInt8]? = nil, accept: String = "application/json",
        responseHeaders: [String] = [], sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil,
        beforeRetry: (() throws -> Void)? = nil, honorCancellation: Bool = true,
        describeFailure: ((Int, ServerError?) -> SalesforceError?)? = nil,
        validate: ((HTTPResponse) -> String?)? = nil
    ) throws -> HTTPResponse {
        var attempt = 0
        var reauthenticated = false
        while true {
            if honorCancellation { try checkCancellation() }
            if session == nil { try authenticate() }
            guard let session else { throw SalesforceError(code: .invalidSession, message: "Not authenticated.") }
            var headers = ["Authorization: Bearer \(session.accessToken)", "Accept: \(accept)"]
            // Exactly "gzip": Salesforce compresses only when asked with that token. Only streamed bodies (result
            // pages) are worth it; ``TransferContext`` decodes and verifies them.
            if sink != nil { headers.append("Accept-Encoding: gzip") }
            if body != nil { headers.append("Content-Type: application/json; charset=UTF-8") }
            // Targets include links from responses: parsed and held to the instance, never concatenated blindly.
            let url = try URLPolicy.resolve(target, instance: session.instance, what: "the request URL")
            let request = HTTPRequest(method: method, url: url, headers: headers, body: body)

            apiCallCount += 1
            logger.trace("HTTP request", metadata: ["http.method": "\(method)", "http.path": "\(request.loggablePath)"])
            let response = try transfer(
                request, honorCancellation: honorCancellation, responseHeaders: responseHeaders + ["Sforce-Limit-Info"],
                sink: sink)
            recordLimitInfo(response.headers["sforce-limit-info"])
            if let tooLarge = response.bodyLimitError("\(method) \(request.loggablePath)") { throw tooLarge }
            if let sinkError = response.sinkError { throw sinkError }
            // A body we stopped ourselves because it could not be complete (corrupt gzip) ends with a curl write
            // error; it is an incomplete page like the others, not a transport failure.
            if (200..<300).contains(response.status), response.curlCode == 0 || response.incompleteBody != nil {
                guard let problem = response.incompleteBody ?? validate?(response) else { return response }
                var failure = SalesforceError(
                    code: .incompleteResults,
                    message: "\(method) \(request.loggablePath) returned an incomplete body: \(problem).",
                    httpStatus: response.status)
                guard attempt < configuration.maxRetries else {
                    failure.message += " Gave up after \(attempt + 1) attempts."
                    throw failure
                }
                try beforeRetry?()
                attempt += 1
                dropConnection()
                try backOff(attempt: attempt, reason: failure)
                continue
            }

            let server = response.curlCode == 0 ? ServerError(body: response.body) : nil
            if response.curlCode == 0 && response.status == 401 {
                if case .accessToken = configuration.grant {
                    throw SalesforceError(
                        code: .invalidSession,
                        message: "The access token was rejected (\(server?.message ?? "session expired or invalid")); "
                            + "a fixed SF_ACCESS_TOKEN cannot be renewed: get a new one, or configure a grant that can "
                            + "log in again (JWT, refresh token, password, client credentials).",
                        httpStatus: 401, errorCode: server?.errorCode)
                }
                guard !reauthenticated else {
                    throw SalesforceError(
                        code: .invalidSession,
                        message: "Salesforce rejected a freshly issued access token for \(method) "
                            + "\(request.loggablePath); check the user's API permission and the Connected App's "
                            + "OAuth scopes (api).",
                        httpStatus: 401, errorCode: server?.errorCode)
                }
                logger.debug("Session expired; authenticating again", metadata: ["http.path": "\(request.loggablePath)"])
                reauthenticated = true
                self.session = nil
                try beforeRetry?()
                continue
            }
            if response.curlCode == 0 && server?.errorCode == "REQUEST_LIMIT_EXCEEDED" {
                throw SalesforceError(
                    code: .requestLimitExceeded,
                    message: "The org's API request limit is exhausted (\(server?.message ?? "limit exceeded")). "
                        + "Wait for the rolling 24-hour window to free requests, or raise the limit; not retried.",
                    httpStatus: response.status, errorCode: server?.errorCode)
            }
            var (failure, retryable) = classify(response, request: request)
            if !retryable, response.curlCode == 0, let specific = describeFailure?(response.status, server) {
                failure = specific
            }
            guard retryable, attempt < configuration.maxRetries else {
                if retryable { failure.message += " Gave up after \(attempt + 1) attempts." }
                throw failure
            }
            try beforeRetry?()
            attempt += 1
            dropConnection()
            try backOff(attempt: attempt, reason: failure)
        }
    }

    /// Whether a failed response may be retried, and the error to report if not.
    func classify(_ response: HTTPResponse, request: HTTPRequest) -> (SalesforceError, retryable: Bool) {
        let what = "\(request.method) \(request.loggablePath)"
        if response.curlCode != 0 {
            switch response.curlCode {
            case 28:
                return (SalesforceError(code: .timeout, message: "\(what) timed out: \(response.curlMessage)."), true)
            case 6, 7, 8, 16, 18, 52, 55, 56, 61, 92:
                return (
                    SalesforceError(code: .network, message: "\(what) failed: \(response.curlMessage)."), true
                )
            case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91:
                return (
                    SalesforceError(
                        code: .tls,
                        message: "TLS failed for \(what): \(response.curlMessage). If the server uses a private CA, "
                            + "point SF_CA_BUNDLE (or CURL_CA_BUNDLE / SSL_CERT_FILE) at its certificate bundle."),
                    false
                )
            default:
                return (SalesforceError(code: .network, message: "\(what) failed: \(response.curlMessage)."), false)
            }
        }
        let server = ServerError(body: response.body)
        var detail = server?.message ?? (response.body.isEmpty ? "empty response body" : "non-JSON response body")
        if response.errorBodyCut {
            detail += " (error body larger than \(TransferContext.maxErrorBodyBytes) bytes; only its start was read)"
        }
        let retryable = response.status >= 500 || [406, 420, 429].contains(response.status)
        return (
            SalesforceError(
                code: .http, message: "\(what) failed with HTTP \(response.status): \(detail).",
                httpStatus: response.status, errorCode: server?.errorCode),
            retryable
        )
    }

    /// Sleeps `base * 2^(attempt-1)` (capped) with ±50% jitter, waking early on cancellation.
    func backOff(attempt: Int, reason: SalesforceError) throws {
        let base = seconds(configuration.retryBaseDelay) * pow(2, Double(attempt - 1))
        let delay = min(base, seconds(configuration.retryMaxDelay)) * Double.random(in: 0.5...1.0)
        logger.debug(
            "Retrying request",
            metadata: ["retry.attempt": "\(attempt)", "retry.delay": "\(delay)", "retry.reason": "\(reason)"])
        try sleep(seconds: delay)
    }

    /// Blocking sleep in short slices so cancellation is noticed quickly.
    func sleep(seconds total: Double) throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(total * 1000))
        while ContinuousClock.now < deadline {
            try checkCancellation()
            let remaining = deadline - ContinuousClock.now
            Thread.sleep(forTimeInterval: min(0.05, max(0, seconds(remaining))))
        }
        try checkCancellation()
    }

    func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
