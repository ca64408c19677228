extension SalesforceClient {
    /// A client that shares this one's session but ignores cancellation.
    ///
    /// After SIGTERM the run's own client refuses to send anything, yet the Bulk job it submitted still has to be
    /// aborted or deleted so it doesn't keep consuming the org's limits; this is the client for that cleanup.
    public func withoutCancellation() -> SalesforceClient {
        let cleanup = SalesforceClient(configuration: configuration, cancellation: CancellationFlag(), logger: logger)
        cleanup.session = session
        return cleanup
    }
}
