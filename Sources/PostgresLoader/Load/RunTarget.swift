/// Where one pass of the run pipeline loads a snapshot: a run's ``LoadRun`` (the whole object, or one shard's
/// range) or a ``ColumnRefresh`` (some columns of rows already loaded). The pipeline drives both the same way:
/// ``begin()``, pages, then ``commit(_:)`` once the evidence proves the pass complete, or ``fail(_:status:reconciliation:reason:salesforceJobId:apiCalls:)``.
public protocol RunTarget: PageSink {
    /// Opens the pass's transaction and its staging.
    func begin() throws
    /// Rows COPY kept, over every finished page.
    var stagedRows: Int { get }
    /// Proves the pass complete (``Reconciliation/prove(stagedRows:jobName:what:)``), writes it and commits.
    func commit(_ request: CommitRequest) throws -> RunSummary
    /// Rolls back and records the failure; never throws.
    func fail(
        _ error: any Error, status: RunStatus, reconciliation: Reconciliation, reason: FailureReason?,
        salesforceJobId: String?, apiCalls: Int)
    /// Rolls back without recording anything, for a pass that is tried once more (``DirectLoadConflict``).
    func abandon()
}

/// Runs `attempt` (begin, pages, commit) on `first`. If `first` copied straight into an empty table and the results
/// held a key twice (``DirectLoadConflict``), it is rolled back and `attempt` runs once more on `staged()`, a target
/// that goes through staging, where the newest version wins. `current` always names the target in progress, so a
/// caller's failure handling fails the right one.
public func withStagedFallback<T>(
    first: any RunTarget, staged: () throws -> any RunTarget, current: (any RunTarget) -> Void,
    _ attempt: (any RunTarget) throws -> T
) throws -> T {
    current(first)
    do {
        return try attempt(first)
    } catch is DirectLoadConflict {
        first.abandon()
        let second = try staged()
        current(second)
        return try attempt(second)
    }
}

extension Reconciliation {
    /// Salesforce's `numberRecordsProcessed`, the records the pages announced and the rows COPY staged must be one
    /// number: anything else means a page was lost, cut or doubled on the way, and merging (worse, sweeping) would
    /// turn that into missing or deleted rows.
    /// - Parameter what: the pass, for the message ("run", "column refresh").
    public func prove(stagedRows: Int, jobName: String, what: String = "run") throws {
        guard let expected else {
            throw RunRefused(
                .incomplete,
                "job '\(jobName)': Salesforce did not report how many records the Bulk job produced "
                    + "(numberRecordsProcessed), so the \(what) cannot prove it is complete; nothing was committed")
        }
        let downloaded = downloaded ?? -1
        guard expected == downloaded, downloaded == stagedRows else {
            throw RunRefused(
                .incomplete,
                "job '\(jobName)': the \(what) is incomplete: Salesforce reported \(expected) records, the "
                    + "\(pages.map(String.init) ?? "?") result pages delivered \(downloaded), and \(stagedRows) "
                    + "rows were staged; nothing was committed (no merge, no sweep, watermark unchanged). Run again; if "
                    + "it repeats, the connection to Salesforce is losing data")
        }
    }
}

extension LoadRun: RunTarget {}

extension ColumnRefresh: RunTarget {
    /// Proves the refresh complete, then ``commit(recordSyncedFields:calculatedRefreshed:runId:)`` with what the
    /// refresh was created for. The summary counts the rows whose values changed as updated.
    public func commit(_ request: CommitRequest) throws -> RunSummary {
        try request.reconciliation.prove(stagedRows: stagedRows, jobName: jobName, what: "column refresh")
        let updated = try commit(recordSyncedFields: recordSyncedFields, calculatedRefreshed: calculatedRefreshed, runId: runId)
        return RunSummary(runId: runId ?? 0, counts: MergeCounts(staged: stagedRows, updated: updated))
    }

    /// The run that triggered the refresh already has its log row; a failed refresh leaves the rows as they were
    /// and the caller reports it in the run's outcome.
    public func fail(
        _ error: any Error, status: RunStatus, reconciliation: Reconciliation, reason: FailureReason?,
        salesforceJobId: String?, apiCalls: Int
    ) {
        rollback()
    }

    public func abandon() { rollback() }
}
