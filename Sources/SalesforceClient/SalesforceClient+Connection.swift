extension SalesforceClient {
    /// Runs one request on this client's libcurl handle, creating it first if there is none.
    ///
    /// Reusing the handle is what keeps a run to one connection per thread: token, job create, every poll and, on
    /// the sequential path, every result page ride the same TCP (and TLS) connection. The handle is kept only when
    /// the transfer ended cleanly (``HTTPResponse/leftConnectionClean``); after anything else it is freed, which
    /// closes its connections, so the retry opens a fresh one rather than asking a connection that just broke,
    /// stalled or cut a body short. A transfer that throws (cancelled) leaves no handle behind either.
    func transfer(
        _ request: HTTPRequest, honorCancellation: Bool, responseHeaders: [String],
        sink: ((UnsafeRawBufferPointer) throws -> Void)? = nil
    ) throws -> HTTPResponse {
        let handle = try connection ?? CurlEasyHandle()
        connection = nil
        let response = try handle.perform(
            request, settings: transportSettings, cancellation: cancellation, honorCancellation: honorCancellation,
            responseHeaders: responseHeaders, sink: sink)
        connectionsOpened += response.newConnections
        if response.newConnections > 0 {
            logger.trace("Opened a connection", metadata: ["http.path": "\(request.loggablePath)"])
        }
        if response.leftConnectionClean { connection = handle }
        return response
    }

    /// Closes the cached connection before a retry.
    ///
    /// Also after a complete answer that is retried (5xx, 429, a page whose records do not add up): retries are
    /// rare and a handshake is cheap next to the back-off, and a fresh connection may reach another server behind
    /// the load balancer instead of asking the one that just failed again.
    func dropConnection() {
        connection = nil
    }
}
