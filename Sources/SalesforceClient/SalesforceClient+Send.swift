import Foundation
import Logging

extension SalesforceClient {
    /// The retry rule of every request, from the configuration.
    var retryPolicy: RetryPolicy {
        RetryPolicy(
            maxRetries: configuration.maxRetries, baseDelay: configuration.retryBaseDelay,
            maxDelay: configuration.retryMaxDelay)
    }

    /// Sends `request` with authentication, one re-authentication when the session expired, and retries as
    /// ``retryPolicy`` decides.
    ///
    /// A target off the instance (another host, userinfo, `..`) is refused with `.protocolViolation` before a byte
    /// is sent. A streamed body that is not provably whole is an incomplete body: retried, and after the retries
    /// `.incompleteResults`.
    func send(_ request: APIRequest) throws -> HTTPResponse {
        var retries = 0
        var reauthenticated = false
        while true {
            if request.honorsCancellation { try checkCancellation() }
            let (http, response) = try attempt(request)
            let failure: SalesforceError
            let kind: RetryPolicy.Failure
            switch try verdict(on: response, of: http, for: request) {
            case .success:
                return response
            case .sessionExpired(let server):
                try renewSession(after: http, server: server, alreadyRenewed: reauthenticated)
                reauthenticated = true
                try request.stream?.restart()
                continue
            case .failed(let error, let cause):
                (failure, kind) = (error, cause)
            }
            let retryAfter = RetryPolicy.retryAfter(response.headers["retry-after"], now: Date())
            let decision = retryPolicy.decide(
                retriesSoFar: retries, failure: kind, retryAfter: retryAfter, jitter: Double.random(in: 0...1))
            guard case .retry(let delay) = decision else {
                var final = failure
                if RetryPolicy.isRetryable(kind) { final.message += " Gave up after \(retries + 1) attempts." }
                throw final
            }
            try request.stream?.restart()
            retries += 1
            dropConnection()
            try wait(delay, beforeRetry: retries, reason: failure)
        }
    }

    /// Builds and transfers one attempt, logging it without its query string and counting it.
    private func attempt(_ request: APIRequest) throws -> (HTTPRequest, HTTPResponse) {
        if request.carriesToken && session == nil { try authenticate() }
        let http = try request.httpRequest(session: session)
        if request.carriesToken {
            apiCallCount += 1
            logger.trace("HTTP request", metadata: ["http.method": "\(http.method)", "http.path": "\(http.loggablePath)"])
        } else {
            logger.trace("OAuth token request", metadata: ["sf.grant": "\(configuration.grant.name)"])
        }
        let stream = request.stream
        let response = try transfer(
            http, honorCancellation: request.honorsCancellation, responseHeaders: request.responseHeaders,
            sink: stream.map { stream in { try stream.receive($0) } })
        if request.carriesToken { recordLimitInfo(response.headers["sforce-limit-info"]) }
        return (http, response)
    }

    private enum Verdict {
        case success
        case sessionExpired(ServerError?)
        case failed(SalesforceError, RetryPolicy.Failure)
    }

    /// What one attempt's response means. Throws what is never retried: a body over the cap, the stream's own
    /// error, an exhausted API limit.
    private func verdict(on response: HTTPResponse, of http: HTTPRequest, for request: APIRequest) throws -> Verdict {
        let what = "\(http.method) \(http.loggablePath)"
        if let tooLarge = response.bodyLimitError(what) { throw tooLarge }
        if let streamError = response.sinkError { throw streamError }
        // A body we stopped ourselves because it could not be complete (corrupt gzip) ends with a curl write
        // error; it is an incomplete page like the others, not a transport failure.
        if (200..<300).contains(response.status), response.curlCode == 0 || response.incompleteBody != nil {
            guard let problem = response.incompleteBody ?? request.stream?.problem(in: response) else { return .success }
            let error = SalesforceError(
                code: .incompleteResults, message: "\(what) returned an incomplete body: \(problem).",
                httpStatus: response.status)
            return .failed(error, .incompleteBody)
        }
        let server = response.curlCode == 0 ? ServerError(body: response.body) : nil
        if request.carriesToken, response.curlCode == 0 {
            if response.status == 401 { return .sessionExpired(server) }
            if server?.errorCode == "REQUEST_LIMIT_EXCEEDED" {
                throw SalesforceError(
                    code: .requestLimitExceeded,
                    message: "The org's API request limit is exhausted (\(server?.message ?? "limit exceeded")). "
                        + "Wait for the rolling 24-hour window to free requests, or raise the limit; not retried.",
                    httpStatus: response.status, errorCode: server?.errorCode)
            }
        }
        var (failure, kind) = classify(response, what: what, server: server)
        if !RetryPolicy.isRetryable(kind), response.curlCode == 0,
            let specific = request.purpose.refusal(status: response.status, server: server)
        {
            failure = specific
        }
        return .failed(failure, kind)
    }

    /// Drops the session after a 401 so the next attempt logs in again, or throws when that cannot help.
    private func renewSession(after http: HTTPRequest, server: ServerError?, alreadyRenewed: Bool) throws {
        if case .accessToken = configuration.grant {
            throw SalesforceError(
                code: .invalidSession,
                message: "The access token was rejected (\(server?.message ?? "session expired or invalid")); "
                    + "a fixed SF_ACCESS_TOKEN cannot be renewed: get a new one, or configure a grant that can "
                    + "log in again (JWT, refresh token, password, client credentials).",
                httpStatus: 401, errorCode: server?.errorCode)
        }
        guard !alreadyRenewed else {
            throw SalesforceError(
                code: .invalidSession,
                message: "Salesforce rejected a freshly issued access token for \(http.method) "
                    + "\(http.loggablePath); check the user's API permission and the Connected App's "
                    + "OAuth scopes (api).",
                httpStatus: 401, errorCode: server?.errorCode)
        }
        logger.info("Session expired; authenticating again", metadata: ["http.path": "\(http.loggablePath)"])
        session = nil
    }

    /// The error a failed attempt reports, and the failure the retry policy judges.
    func classify(
        _ response: HTTPResponse, what: String, server: ServerError?
    ) -> (SalesforceError, RetryPolicy.Failure) {
        if response.curlCode != 0 {
            let transport = TransportFailure(curlCode: response.curlCode)
            let message: String
            switch transport {
            case .timeout: message = "\(what) timed out: \(response.curlMessage)."
            case .tls:
                message = "TLS failed for \(what): \(response.curlMessage). If the server uses a private CA, "
                    + "point SF_CA_BUNDLE (or CURL_CA_BUNDLE / SSL_CERT_FILE) at its certificate bundle."
            case .connection, .other: message = "\(what) failed: \(response.curlMessage)."
            }
            let code: SalesforceError.Code = transport == .timeout ? .timeout : transport == .tls ? .tls : .network
            return (SalesforceError(code: code, message: message), .transport(transport))
        }
        var detail = server?.message ?? (response.body.isEmpty ? "empty response body" : "non-JSON response body")
        if response.errorBodyCut {
            detail += " (error body larger than \(TransferContext.maxErrorBodyBytes) bytes; only its start was read)"
        }
        let error = SalesforceError(
            code: .http, message: "\(what) failed with HTTP \(response.status): \(detail).",
            httpStatus: response.status, errorCode: server?.errorCode)
        return (error, .status(response.status))
    }

    /// Sleeps before retry number `attempt`, waking early on cancellation.
    private func wait(_ delay: Duration, beforeRetry attempt: Int, reason: SalesforceError) throws {
        // At the default level: a run slowed by retries should say so without --log-level debug.
        logger.warning(
            "Retrying request",
            metadata: [
                "retry.attempt": .stringConvertible(attempt), "retry.delay": .stringConvertible(seconds(delay)),
                "retry.reason": "\(reason)",
            ])
        try sleep(seconds: seconds(delay))
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
