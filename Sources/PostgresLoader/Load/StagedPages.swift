/// What a resumable run's next ledger row needs besides its page: which Bulk job the page belongs to and the
/// locator that followed it.
public struct StagedPages: Sendable {
    /// `''` for a job's run, `shard <run id>/<index>` for a shard (``SyncStore/stagedRun(jobName:scope:)``).
    public let scope: String
    /// The Bulk job whose pages are being loaded.
    public var bulkJobId = ""
    /// The `Sforce-Locator` that followed the page being loaded (locator chain only).
    public var nextLocator: String?
}

extension LoadRun {
    /// Makes this (not yet begun) run stage into `table`, a resumable run's UNLOGGED table that
    /// ``SyncStore/beginStagedRun(jobName:scope:fingerprint:bulkJobIds:boundaries:recordsExpected:ddl:)`` created:
    /// each page commits with its ledger row, and the run's one transaction (proof, merge, sweep, watermark, log,
    /// dropping the table) opens at commit. Never the direct first load: the target must stay untouched until then.
    public func stageResumably(into table: String, scope: String) {
        plan.staging = table
        staged = StagedPages(scope: scope)
        allowsDirectLoad = false
    }

    /// The staging table's DDL for `table` (quoted), for ``SyncStore/beginStagedRun``.
    public func resumableStagingDDL(_ table: String) -> String { plan.resumableStagingDDL(table) }

    /// Which Bulk job the next pages belong to, and the locator after the page being loaded.
    public func stagePages(ofBulkJob id: String) { staged?.bulkJobId = id }
    public func noteNextLocator(_ locator: String?) { staged?.nextLocator = locator }

    /// Opens the page's own transaction (a COPY waits on Salesforce: no statement timeout).
    func beginResumablePage() throws {
        guard !connection.isInTransaction else { return }
        try connection.execute("BEGIN")
        try connection.execute("SET LOCAL statement_timeout = 0")
    }

    /// The page's ledger row and COMMIT: a killed process leaves the page staged and counted, or neither.
    func commitResumablePage(_ page: PageWriter, rows: Int) throws {
        guard let staged else { return }
        try store.recordStagedPage(
            jobName: jobName, scope: staged.scope, bulkJobId: staged.bulkJobId, page: page.pageNumber,
            nextLocator: staged.nextLocator, records: rows, bytes: page.bytes)
        try connection.execute("COMMIT")
    }

    /// The run's one transaction, opened at commit: the checks ``begin()`` makes for a run that stages in its
    /// own transaction happen here, under the same locks, and the staged rows are counted from the table itself
    /// (pages staged by an earlier, killed process included), so the proof holds Salesforce's count against the
    /// ledger and the rows.
    func openResumableCommit() throws {
        try connection.execute("BEGIN")
        try connection.execute("SET LOCAL statement_timeout = 0")
        try connection.limitLockWaits()
        if shard == nil { targetWasEmpty = try connection.execute(plan.targetIsEmptySQL)[0, "empty"] == "t" }
        stagedRows = Int(try connection.execute("SELECT count(*) AS n FROM \(plan.staging)")[0, "n"] ?? "") ?? -1
    }

    /// Drops the staging table and its ledger in the commit's transaction: merged rows are never staged twice.
    func dropStagedPages() throws {
        guard let staged else { return }
        try store.dropStagedRun(jobName: jobName, scope: staged.scope)
    }
}
