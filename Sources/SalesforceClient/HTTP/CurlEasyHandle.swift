import CCurl

/// `curl_global_init` must run once, before any handle exists; a global `let` is initialized exactly once,
/// thread-safely, on first use.
private let curlGlobalInitResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// Transport settings applied to every easy handle.
///
/// Two kinds of transfer get different bounds. A non-streamed request (JSON: token, job, describe) is small, so
/// it gets a total time limit and only a 1 byte/s stall check. A streamed result page can be hundreds of MB, so
/// it gets a generous total limit and a real minimum speed: a peer trickling bytes slower than
/// ``lowSpeedLimitBytesPerSecond`` for ``lowSpeedTimeSeconds`` is cut off (a retryable `.timeout`) instead of
/// holding the run forever.
struct TransportSettings {
    var caBundlePath: String?
    var connectTimeoutSeconds: Int
    var lowSpeedTimeSeconds: Int
    /// Minimum average speed of a streamed page over ``lowSpeedTimeSeconds``.
    var lowSpeedLimitBytesPerSecond: Int = 1024
    /// Total time limit of a non-streamed request, connect included.
    var requestTimeoutMilliseconds: Int = 120_000
    /// Total time limit of one streamed result page.
    var pageTimeoutMilliseconds: Int = 1_800_000
    /// Cap of a buffered 2xx body (``SalesforceConfiguration/maxResponseBytes``).
    var maxResponseBytes: Int = 64 << 20
}

/// Owns one libcurl easy handle and frees it in `deinit`.
///
/// A handle may run many transfers, one after another: libcurl keeps the connections it opened in the handle's
/// connection cache, so the next request to the same host reuses the TCP connection and its TLS session instead
/// of paying a new handshake. Every transfer starts from `curl_easy_reset` and sets all its options again, so
/// nothing of one request (headers, body, method, sink, timeouts) carries over to the next; the reset keeps only
/// the live connections and the DNS and TLS session caches. libcurl allows a handle on any thread but never on
/// two at once: the owner (one ``SalesforceClient``, itself not `Sendable`) guarantees that.
final class CurlEasyHandle {
    private let handle: UnsafeMutableRawPointer
    /// libcurl writes its error text here during `curl_easy_perform`, so it must outlive the transfer.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Header list handed to libcurl; freed only after the transfer (at the next transfer's reset, or in `deinit`).
    private var headerList: UnsafeMutablePointer<curl_slist>?

    init() throws {
        guard curlGlobalInitResult == CURLE_OK, let handle = curl_easy_init() else {
            throw SalesforceError(code: .network, message: "libcurl failed to initialize (curl_easy_init).")
        }
        self.handle = handle
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
    }

    /// Runs the request to completion. Transport failures come back in the response, not as throws.
    ///
    /// - Parameter sink: receives the decoded body of a 2xx response as it arrives; other statuses (and requests
    ///   without a sink) are buffered into ``HTTPResponse/body``. A streamed body whose end cannot be proven
    ///   (see ``TransferContext/endProblem()``) is reported in ``HTTPResponse/incompleteBody``.
    func perform(
        _ request: HTTPRequest, settings: TransportSettings, cancellation: CancellationFlag, honorCancellation: Bool,
        responseHeaders: [String], sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil
    ) throws -> HTTPResponse {
        let context = TransferContext(
            handle: handle, cancellation: cancellation, honorCancellation: honorCancellation,
            maxSuccessBodyBytes: settings.maxResponseBytes, sink: sink)
        // Back to libcurl's defaults (connections stay cached); only then may the last transfer's header list go,
        // since the handle pointed at it until now.
        curl_easy_reset(handle)
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        // A transfer that fails without writing its own text must not report the previous failure's.
        errorBuffer[0] = 0
        try configure(request, settings: settings, streamed: sink != nil)
        let contextPointer = Unmanaged.passUnretained(context).toOpaque()
        try check(sfpg_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION, sfpgCurlWrite), "CURLOPT_WRITEFUNCTION")
        try check(sfpg_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, contextPointer), "CURLOPT_WRITEDATA")
        try check(sfpg_curl_setopt_xferinfo(handle, CURLOPT_XFERINFOFUNCTION, sfpgCurlProgress), "XFERINFOFUNCTION")
        try check(sfpg_curl_setopt_ptr(handle, CURLOPT_XFERINFODATA, contextPointer), "CURLOPT_XFERINFODATA")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0), "CURLOPT_NOPROGRESS")

        let code = withExtendedLifetime(context) { curl_easy_perform(handle) }
        // The handle outlives this transfer's context now: it must not keep a pointer to it while it sits idle
        // (the callbacks take a missing context as "stop").
        _ = sfpg_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, nil)
        _ = sfpg_curl_setopt_ptr(handle, CURLOPT_XFERINFODATA, nil)

        if context.status == 0 {
            var status = 0
            _ = sfpg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            context.status = status
        }
        var newConnections = 0
        _ = sfpg_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &newConnections)
        var headers: [String: String] = [:]
        for name in responseHeaders {
            if let value = responseHeader(handle, name) { headers[name.lowercased()] = value }
        }
        // Only a streamed success can be half a page; error bodies are read for their message only.
        var incompleteBody: String?
        if sink != nil, (200..<300).contains(context.status), context.sinkError == nil,
            code == CURLE_OK || context.bodyProblem != nil
        {
            incompleteBody = context.endProblem()
        }
        var message = ""
        if code != CURLE_OK {
            message = String(cString: errorBuffer)
            if message.isEmpty { message = String(cString: curl_easy_strerror(code)) }
        }
        if context.cancelledDuringTransfer { throw SalesforceError.cancelled() }
        return HTTPResponse(
            status: context.status, body: context.buffered, headers: headers, curlCode: code.rawValue,
            curlMessage: message, sinkError: context.sinkError, streamedBytes: context.streamedBytes,
            sinkStarted: context.sinkStarted, incompleteBody: incompleteBody,
            successBodyLimitExceeded: context.successBodyLimitExceeded, errorBodyCut: context.errorBodyCut,
            newConnections: newConnections)
    }

    private func configure(_ request: HTTPRequest, settings: TransportSettings, streamed: Bool) throws {
        try check(sfpg_curl_setopt_str(handle, CURLOPT_URL, request.url), "CURLOPT_URL")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        // https only, plain http just for loopback (the emulator): whatever URL reaches libcurl, it cannot be
        // turned into a cleartext request, a file:// read or another protocol. Redirects are never followed (a
        // Location header would otherwise take the Authorization header along); the protocol list for them is
        // pinned too, in case a later change turns them on.
        let protocols = URLPolicy.curlProtocols(for: request.url)
        try check(sfpg_curl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, protocols), "CURLOPT_PROTOCOLS_STR")
        try check(sfpg_curl_setopt_str(handle, CURLOPT_REDIR_PROTOCOLS_STR, protocols), "CURLOPT_REDIR_PROTOCOLS_STR")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "CURLOPT_FOLLOWLOCATION")
        try check(sfpg_curl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
        // We ask for gzip ourselves (`Accept-Encoding: gzip` in the request headers) and decode it in
        // ``TransferContext``, where the end of the stream can be verified; libcurl must hand over the raw body.
        try check(sfpg_curl_setopt_long(handle, CURLOPT_HTTP_CONTENT_DECODING, 0), "CURLOPT_HTTP_CONTENT_DECODING")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, settings.connectTimeoutSeconds), "timeout")
        // Both limits end the transfer with CURLE_OPERATION_TIMEDOUT (28), which ``TransportFailure`` reads as
        // a retryable `.timeout`.
        let lowSpeed = streamed ? max(1, settings.lowSpeedLimitBytesPerSecond) : 1
        let total = streamed ? settings.pageTimeoutMilliseconds : settings.requestTimeoutMilliseconds
        try check(sfpg_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, lowSpeed), "CURLOPT_LOW_SPEED_LIMIT")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, settings.lowSpeedTimeSeconds), "low speed")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, max(1, total)), "CURLOPT_TIMEOUT_MS")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "CURLOPT_SSL_VERIFYPEER")
        try check(sfpg_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "CURLOPT_SSL_VERIFYHOST")
        if let caBundle = settings.caBundlePath {
            try check(sfpg_curl_setopt_str(handle, CURLOPT_CAINFO, caBundle), "CURLOPT_CAINFO")
        }
        try check(sfpg_curl_setopt_str(handle, CURLOPT_USERAGENT, "sfpg/1.0 libcurl"), "CURLOPT_USERAGENT")

        switch request.method {
        case "GET": break
        case "POST": try check(sfpg_curl_setopt_long(handle, CURLOPT_POST, 1), "CURLOPT_POST")
        default: try check(sfpg_curl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method), "CUSTOMREQUEST")
        }
        if let body = request.body {
            try check(sfpg_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "body size")
            // COPYPOSTFIELDS copies the bytes, so the array need not outlive this call.
            try body.withUnsafeBytes { bytes in
                let pointer = UnsafeMutableRawPointer(mutating: bytes.baseAddress)
                try check(sfpg_curl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, pointer), "CURLOPT_COPYPOSTFIELDS")
            }
        }
        // An empty Expect header stops libcurl from waiting for `100 Continue` on larger bodies.
        var list: UnsafeMutablePointer<curl_slist>? = curl_slist_append(nil, "Expect:")
        for line in request.headers {
            guard let appended = curl_slist_append(list, line) else {
                if let list { curl_slist_free_all(list) }
                throw SalesforceError(code: .network, message: "libcurl could not allocate a request header.")
            }
            list = appended
        }
        headerList = list
        try check(sfpg_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list), "CURLOPT_HTTPHEADER")
    }

    private func check(_ code: CURLcode, _ option: String) throws {
        guard code == CURLE_OK else {
            let text = String(cString: curl_easy_strerror(code))
            throw SalesforceError(code: .network, message: "libcurl rejected \(option): \(text).")
        }
    }
}

@available(*, unavailable)
extension CurlEasyHandle: Sendable {}
