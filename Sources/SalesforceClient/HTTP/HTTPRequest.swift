/// One HTTP request as the client sends it.
struct HTTPRequest {
    var method: String
    var url: String
    /// Full header lines (`Name: value`); the Authorization header lives here and is never logged.
    var headers: [String] = []
    var body: [UInt8]? = nil

    /// The URL's path without query string, safe to log (no locators, tokens or form values).
    var loggablePath: String {
        guard case .success(let parsed) = CheckedURL.parse(url) else { return "(a URL the client does not send to)" }
        return parsed.path
    }
}

/// What one transfer produced; a transport failure is reported in ``curlCode``, not thrown, so the caller can
/// decide about retries.
struct HTTPResponse {
    /// 0 when no status line arrived.
    var status: Int
    /// The body for buffered requests, or the (error) body of a non-2xx streamed request.
    var body: [UInt8]
    /// Response headers the client cares about, keyed by lower-cased name.
    var headers: [String: String]
    /// `CURLE_OK` (0) on success.
    var curlCode: UInt32
    /// libcurl's description of ``curlCode`` (error buffer, else `curl_easy_strerror`).
    var curlMessage: String
    /// Error thrown by the streaming sink; the transfer was aborted because of it.
    var sinkError: (any Error)?
    /// Bytes handed to the sink.
    var streamedBytes: Int64
    /// Whether the sink received at least one byte (so a consumer may hold half a page).
    var sinkStarted: Bool
    /// Why a streamed 2xx body is not provably complete (corrupt or unfinished gzip, short of Content-Length,
    /// close-delimited); `nil` when complete or not streamed. Such a response is retried like a dropped one.
    var incompleteBody: String? = nil
    /// The cap (bytes) a buffered 2xx body exceeded; the transfer was aborted and ``body`` is unusable.
    var successBodyLimitExceeded: Int? = nil
    /// A non-2xx body longer than 1 MiB: only its start is in ``body`` (enough for an error message).
    var errorBodyCut = false
    /// Connections libcurl opened for this transfer (`CURLINFO_NUM_CONNECTS`): 0 when it reused a cached one.
    var newConnections = 0

    /// Whether the transfer ended the way HTTP meant it to, so its connection may carry the next request. A
    /// transport error, a timeout, a body we stopped (limit, sink, cancellation) or one that ended before its
    /// framing or gzip said it would: the connection is suspect, and libcurl may still hold it as reusable.
    var leftConnectionClean: Bool { curlCode == 0 && incompleteBody == nil && sinkError == nil }
}

extension HTTPResponse {
    /// The error for a 2xx body over the cap, or `nil`: a cut body is never passed on as if it were whole.
    func bodyLimitError(_ what: String) -> SalesforceError? {
        guard let limit = successBodyLimitExceeded else { return nil }
        return SalesforceError(
            code: .protocolViolation,
            message: "\(what) returned a response larger than \(limit) bytes; stopped reading it rather than use it "
                + "cut short (the limit is SalesforceConfiguration.maxResponseBytes).",
            httpStatus: status)
    }
}
