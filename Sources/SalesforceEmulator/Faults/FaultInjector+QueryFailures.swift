extension FaultInjector {
    /// Jobs whose SOQL contains a substring end `Failed` with a message, for the next `remaining` such jobs.
    struct QueryFailure: Sendable {
        var soqlContains: String
        var remaining: Int
        var message: String
    }

    /// What a Bulk query job that ran out of time reports: the `QUERY_TIMEOUT` code Salesforce documents for a query
    /// that "doesn't execute within the standard 2-minute timeout limit", with the message its REST query gives it.
    public static let queryTimeoutMessage = "QUERY_TIMEOUT: Your query request was running for too long."

    /// The next `count` created jobs whose SOQL contains `soqlContains` end `Failed` with `errorMessage` (Salesforce's
    /// timeout message by default) instead of `JobComplete`; other jobs are untouched. So a test can make exactly one
    /// of several concurrent range jobs fail, once or every time.
    public func failQueries(containing soqlContains: String, count: Int = 1, errorMessage: String = FaultInjector.queryTimeoutMessage) {
        state.withLock {
            $0.queryFailures.append(QueryFailure(soqlContains: soqlContains, remaining: count, message: errorMessage))
        }
    }

    /// The planned failure of a job created for `soql`: `.some(message)` from ``failJobs(count:errorMessage:)`` or a
    /// matching ``failQueries(containing:count:errorMessage:)``, else `.none`.
    func takeJobFailure(soql: String) -> String?? {
        if let failure = takeJobFailure() { return failure }
        return state.withLock { state -> String?? in
            guard let k = state.queryFailures.firstIndex(where: { soql.contains($0.soqlContains) }) else { return .none }
            let message = state.queryFailures[k].message
            state.queryFailures[k].remaining -= 1
            if state.queryFailures[k].remaining <= 0 { state.queryFailures.remove(at: k) }
            return .some(message)
        }
    }
}
