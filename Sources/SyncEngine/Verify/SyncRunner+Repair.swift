import Foundation
import Logging
import PostgresLoader
import SalesforceClient

extension SyncRunner {
    /// Salesforce's `key, modstamp` of the live records in `windows` (Bulk query jobs through ``BulkJobs``), COPYed
    /// into a temp table and compared with the table.
    func list(_ windows: [CountWindow], job: JobDefinition, check: DriftCheck, logger: Logger) throws
        -> DriftCheck.ListingDrift
    {
        let plan = try SyncPlan.windows(of: job, condition: nil, fields: check.listingFields)
        let jobs = BulkJobs(client: client, plan: plan, logger: logger) { _, _ in }
        do {
            for condition in Self.conditions(windows, field: job.watermark) {
                try jobs.create(SplitRanges(boundaries: []), readingShard: condition)
            }
            try jobs.waitForAll(resplitting: nil, cancellation: cancellation)
            try check.beginListing()
            let loader = PageLoader(run: check, logger: logger)
            for done in jobs.completed {
                _ = try downloadResults(
                    done.id, expectedRecords: done.numberRecordsProcessed, job: job, options: SyncOptions(), into: loader,
                    logger: logger)
            }
            let drift = try check.compare(windows: windows.map { (CountWindow.literal($0.start), CountWindow.literal($0.end)) })
            jobs.deleteAll()
            return drift
        } catch {
            check.rollback()
            jobs.abandonAll()
            throw error
        }
    }

    /// Asks Salesforce (REST, `key IN (…)` in batches, the job's filter applied) which of `keys` it still has live:
    /// those it has moved to a window the listing did not cover (re-read them by key); the rest are extra.
    func confirm(_ keys: [String], job: JobDefinition) throws -> (extra: [String], moved: [String]) {
        var found: Set<String> = []
        for batch in Self.keyLists(keys, field: job.key) {
            let soql = "SELECT \(job.key) FROM \(job.object) WHERE "
                + ([job.whereClause.map { "(\($0))" }, batch].compactMap { $0 }.joined(separator: " AND "))
            _ = try client.query(soql, as: [String: JSONValue].self) { rows in
                for row in rows {
                    if let key = row.first(where: { $0.key.caseInsensitiveEquals(job.key) })?.value.plain { found.insert(key) }
                }
            }
        }
        return (keys.filter { !found.contains($0) }, keys.filter { found.contains($0) })
    }

    /// Re-reads the listed windows and the moved keys through the one run pipeline (``RunScope/repair(condition:sweepsExtras:)``),
    /// the first pass also sweeping the extra keys within `max_sweep` (a job that sweeps on a full sync only: a
    /// filtered or non-sweeping job only reports them). - Returns: rows inserted, updated or removed.
    func repair(
        _ job: JobDefinition, findings: DriftFindings, check: DriftCheck, state: JobState, options: SyncOptions,
        logger: Logger
    ) throws -> Int {
        let sweeps = job.sweepsOnFullSync && !findings.extra.isEmpty
        if sweeps { try check.stageExtras(findings.extra) }
        let passes = Self.conditions(findings.windows, field: job.watermark) + Self.keyLists(findings.moved, field: job.key)
        var repaired = 0
        for (index, condition) in passes.enumerated() {
            var outcome = JobOutcome(job: job.name, status: .success, seconds: 0)
            let summary = try sync(
                job, scope: .repair(condition: condition, sweepsExtras: sweeps && index == 0), state: state,
                options: options, outcome: &outcome, logger: logger)
            repaired += summary.counts.inserted + summary.counts.updated + summary.counts.deleted
        }
        return repaired
    }
}
