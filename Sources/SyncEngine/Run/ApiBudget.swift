import Foundation
import Logging
import SalesforceClient

/// `api_budget: 50%`: the most of each of the org's daily allowances (`DailyApiRequests`, `DailyBulkV2QueryJobs`,
/// `DailyBulkV2QueryFileStorageMB`) a run may take the org's usage to. The allowances are the org's, shared by every
/// integration, and the org's usage is all Salesforce reports, so the budget is a ceiling on it: with 50%, sfpg
/// leaves at least half of each allowance to everyone else, and an org already past it gets no run at all.
///
/// Checked before each Bulk job (``beforeBulkJob()``) and before each job's result pages (``beforePages(calls:)``);
/// a step that would cross the ceiling is not taken: the run stops with ``ExitReason/apiBudget`` (exit 6) and
/// rolls back. Requests are counted from the `Sforce-Limit-Info` header every REST answer carries (free); `/limits`
/// (itself a request) is read once, before the run's first Bulk job, for the two Bulk allowances, and the run's
/// own jobs and bytes are added to it afterwards.
final class ApiBudget {
    let share: Double
    let client: SalesforceClient
    let logger: Logger
    private var limits: [String: OrgLimit]?
    private var callsAtLimits = 0
    private var jobsAtLimits = 0
    /// Result bytes this run downloaded since ``limits`` was read.
    private var bytesSinceLimits: Int64 = 0

    /// nil without a budget. `job`'s own `api_budget` and the run's (`--api-budget`): the smaller applies.
    init?(job: JobDefinition, options: SyncOptions, client: SalesforceClient, logger: Logger) {
        guard let share = [job.apiBudget, options.apiBudget].compactMap({ $0 }).min() else { return nil }
        self.share = share
        self.client = client
        self.logger = logger
    }

    /// Before creating a Bulk job: one more job, the storage its results take, and at least the calls of a job
    /// that reads nothing (``BulkJobCost/leastJob(client:)``).
    func beforeBulkJob() throws {
        let limits = try orgLimits()
        if let jobs = limits["DailyBulkV2QueryJobs"] {
            try check("DailyBulkV2QueryJobs", used: jobs.max - jobs.remaining + client.bulkJobsCreated - jobsAtLimits, next: 1, max: jobs.max)
        }
        if let storage = limits["DailyBulkV2QueryFileStorageMB"] {
            let used = storage.max - storage.remaining + Int(bytesSinceLimits / 1_048_576)
            try check("DailyBulkV2QueryFileStorageMB", used: used, next: 0, max: storage.max)
        }
        try beforePages(calls: BulkJobCost.leastJob(client: client))
    }

    /// Before a batch of `calls` requests (a job's result pages, its listing and its delete).
    func beforePages(calls: Int) throws {
        // An org that reports no request allowance at all has none to protect.
        guard let usage = try requestUsage() else { return }
        try check("DailyApiRequests", used: usage.used, next: calls, max: usage.max)
    }

    /// Counts a job's downloaded result bytes against the storage allowance.
    func downloaded(bytes: Int64) { bytesSinceLimits += bytes }

    /// Requests used now: the latest `Sforce-Limit-Info`, plus calls made since (parallel workers' headers are
    /// not seen); `/limits` when no answer carried the header.
    private func requestUsage() throws -> (used: Int, max: Int)? {
        if let usage = client.lastApiUsage {
            return (usage.used + client.apiCallCount - client.apiCallCountAtUsage, usage.max)
        }
        guard let requests = try orgLimits()["DailyApiRequests"] else { return nil }
        return (requests.max - requests.remaining + client.apiCallCount - callsAtLimits, requests.max)
    }

    private func orgLimits() throws -> [String: OrgLimit] {
        if let limits { return limits }
        let read = try client.limits()
        (limits, callsAtLimits, jobsAtLimits, bytesSinceLimits) = (read, client.apiCallCount, client.bulkJobsCreated, 0)
        return read
    }

    private func check(_ name: String, used: Int, next: Int, max: Int) throws {
        let allowed = Int((Double(max) * share).rounded(.down))
        logger.debug("api budget", metadata: ["sf.limit": "\(name)", "sf.used": "\(used)", "sf.next": "\(next)", "sf.allowed": "\(allowed)"])
        guard used + next > allowed else { return }
        let percent = String(format: "%g%%", share * 100)
        throw SyncError(
            "api_budget \(percent): the next step needs \(next) of \(name), which would take the org to \(used + next) "
                + "of \(max) (the budget allows \(allowed)); stopped before it, nothing committed. Run again when "
                + "the rolling 24-hour allowance has recovered, or raise api_budget.",
            reason: .apiBudget)
    }
}
