extension SalesforceClient {
    /// Runs `body` with a client that shares this one's session but ignores cancellation; its calls count as this
    /// client's (they spend the same org's allowance).
    ///
    /// After SIGTERM the run's own client refuses to send anything, yet the Bulk job it submitted still has to be
    /// aborted or deleted so it doesn't keep consuming the org's limits; this is the client for that cleanup.
    public func withoutCancellation<T>(_ body: (SalesforceClient) throws -> T) rethrows -> T {
        let cleanup = SalesforceClient(configuration: configuration, cancellation: CancellationFlag(), logger: logger)
        cleanup.session = session
        defer {
            apiCallCount += cleanup.apiCallCount
            connectionsOpened += cleanup.connectionsOpened
        }
        return try body(cleanup)
    }
}
