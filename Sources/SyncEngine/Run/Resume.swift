import Logging
import PostgresLoader
import SalesforceClient

extension RunScope {
    /// The pass's key among resumable runs (`sfpg.resume_runs.scope`); nil for a column pass, which is not
    /// resumable (it reads a few narrow columns), and for a verify's repair (it re-reads a few windows).
    var resumeKey: String? {
        switch self {
        case .object: ""
        case .shard(let slot): "shard \(slot.runId)/\(slot.index)"
        case .columns, .repair: nil
        }
    }
}

/// From how many records a run stages resumably (`SFPG_RESUME_MIN_RECORDS`, README "Resume"). Into a table that has
/// rows a run stages anyway and resuming costs nothing; a first load into an empty table gives up its direct COPY.
public struct ResumeThreshold: Sendable, Equatable {
    /// For a run that goes through staging anyway.
    public var staged: Int
    /// For a run that would copy straight into an empty target.
    public var firstLoad: Int

    public init(staged: Int, firstLoad: Int) { (self.staged, self.firstLoad) = (staged, firstLoad) }

    /// One threshold for every run (a set `SFPG_RESUME_MIN_RECORDS`).
    public init(records: Int) { self.init(staged: records, firstLoad: records) }
}

extension SyncRunner {
    /// From how many records (Salesforce's count for the run's Bulk jobs) a run stages resumably by default:
    /// 1M into a table that has rows, 10M for a first load into an empty one (README, "Resume").
    public static let defaultResumeMinRecords = ResumeThreshold(staged: 1_000_000, firstLoad: 10_000_000)

    /// What a resumable run's staged rows were read for: the query (fields, filter, watermark), the split, the
    /// table, its columns and key. Another job file gives another fingerprint, and the rerun starts over.
    func resumeFingerprint(_ job: JobDefinition, plan: SyncPlan) -> String {
        let columns = job.loadMapping.allMappings.map(\.column).joined(separator: ",")
        return "\(plan.signature) | split \(plan.split) | \(job.table.quoted) | \(columns) | key \(job.key)"
    }

    /// Adopts the Bulk jobs of a killed run that staged resumably, when they still serve this run: same fingerprint,
    /// the jobs still recorded in flight (`leftover`), the staging table holding every row its ledger counts, and
    /// each job still `JobComplete` on Salesforce (results are kept 7 days). Otherwise drops the staged pages, saying why, and the run starts over.
    /// - Returns: whether the jobs were adopted (``BulkJobs/resumed`` then holds the staged run).
    func resumeStaged(_ jobs: BulkJobs, job: JobDefinition, plan: SyncPlan, scope: RunScope, leftover: String?) throws -> Bool {
        guard let key = scope.resumeKey, let run = try store.stagedRun(jobName: job.name, scope: key) else { return false }
        var adopted: [QueryJob] = []
        func obstacle() -> String? {
            if run.fingerprint != resumeFingerprint(job, plan: plan) { return "the job's definition changed" }
            if leftover != run.bulkJobIds.joined(separator: ",") { return "its Bulk jobs are no longer the ones in flight" }
            if (try? store.stagedRows(of: run)) != run.total.records {
                return "the staging table does not hold what the ledger counts (a database crash empties UNLOGGED tables)"
            }
            for id in run.bulkJobIds {
                guard let existing = try? client.queryJob(id) else { return "Bulk job \(id) is gone (expired or deleted)" }
                guard existing.state == .jobComplete else { return "Bulk job \(id) is \(existing.state)" }
                adopted.append(existing)
            }
            return nil
        }
        if let reason = obstacle() {
            jobs.logger.notice(
                "the pages an interrupted run staged cannot be resumed: starting over",
                metadata: ["sync.reason": "\(reason)", "sync.staged_pages": "\(run.total.pages)"])
            try store.dropStagedRun(jobName: job.name, scope: key)
            return false
        }
        jobs.adopt(adopted, boundaries: run.boundaries)
        jobs.resumed = run
        let staged = run.total
        jobs.logger.notice(
            "resuming an interrupted run",
            metadata: [
                "sf.job": "\(run.bulkJobIds.joined(separator: ","))", "sync.staged_pages": "\(staged.pages)",
                "sync.staged_records": "\(staged.records)", "sync.staged_bytes": "\(staged.bytes)",
            ])
        return true
    }

    /// Decides, once Salesforce has counted the results, whether the pass stages resumably: a resumed run does, a
    /// new one when it reads at least `options.resumeMinRecords` records (then its staging table and bookkeeping
    /// are created, before the first page).
    /// - Returns: the pages already staged per Bulk job (empty for a new run or one that is not resumable).
    func stageResumablyIfLarge(
        _ target: any RunTarget, jobs: BulkJobs, job: JobDefinition, scope: RunScope, plan: SyncPlan, options: SyncOptions
    ) throws -> [String: StagedProgress] {
        // Parts and REST batches are staged through their own tables and proofs, never resumably.
        guard let run = target as? LoadRun, let key = scope.resumeKey, jobs.parts == nil, !jobs.readsThroughREST else {
            return [:]
        }
        if let resumed = jobs.resumed {
            run.stageResumably(into: resumed.stageTable, scope: key)
            return resumed.progress
        }
        guard let expected = jobs.expectedRecords, expected >= options.resumeMinRecords.staged else { return [:] }
        // Into an empty table the run would COPY straight into the target; staging resumably costs it a second pass
        // (+30-40%) on every such load, which pays only where a kill is likely, in runs of tens of millions of rows.
        if expected < options.resumeMinRecords.firstLoad, try run.wouldCopyDirectly() { return [:] }
        let begun = try store.beginStagedRun(
            jobName: job.name, scope: key, fingerprint: resumeFingerprint(job, plan: plan), bulkJobIds: jobs.ids,
            boundaries: jobs.boundaries, recordsExpected: expected, ddl: run.resumableStagingDDL)
        run.stageResumably(into: begun.stageTable, scope: key)
        jobs.resumed = begun
        jobs.logger.info("staging resumably", metadata: ["sync.expected": "\(expected)", "pg.table": "\(begun.stageTable)"])
        return [:]
    }

    /// The run failed: a resumable one keeps its staged pages and Bulk jobs for the next run, unless sfpg refused
    /// what it staged (the proof failed: those pages are not to be trusted).
    /// - Returns: whether they were kept.
    func keepsStagedPages(_ jobs: BulkJobs, after error: any Error) -> Bool {
        guard jobs.resumed != nil else { return false }
        // A refused sweep or watermark leaves good pages (a rerun with --allow-mass-delete resumes them).
        if let refused = error as? RunRefused, refused.reason == .incomplete { return false }
        jobs.logger.notice(
            "the staged pages and the Bulk jobs are kept: the next run resumes", metadata: ["sf.job": "\(jobs.joinedIds ?? "-")"])
        return true
    }

    /// Downloads the rest of a job whose first `staged.pages` pages are staged: the result page listing without
    /// them (every page of a listing read with the same `maxRecords` is the same), else the locator chain from the
    /// locator that followed the last staged page.
    func downloadRest(
        _ bulkJobId: String, after staged: StagedProgress, expectedRecords: Int?, job: JobDefinition, options: SyncOptions,
        into consumer: PageLoader
    ) throws -> DownloadSummary {
        let remaining = expectedRecords.map { $0 - staged.records }
        if let links = try client.resultPageLinks(bulkJobId, maxRecords: job.pageSize, expectedRecords: expectedRecords) {
            return try client.downloadResults(
                bulkJobId, links: Array(links.dropFirst(staged.pages)), expectedRecords: remaining,
                connections: max(1, options.downloadConnections),
                maxPagesInFlight: options.maxPagesInFlight ?? options.downloadConnections * 2, into: consumer)
        }
        guard let locator = staged.nextLocator else {
            throw RunRefused(
                .incomplete,
                "job '\(job.name)': Bulk job \(bulkJobId) no longer lists its result pages and the staged pages came "
                    + "from that listing, so the rest cannot be found; the staged pages were dropped: run again")
        }
        return try client.downloadResults(bulkJobId, maxRecords: job.pageSize, expectedRecords: remaining, from: locator, into: consumer)
    }
}
