import SalesforceClient

/// What a run's Bulk jobs cost in API calls, counted step by step as ``BulkJobs`` and the download take them, so
/// `sfpg plan` and `api_budget` judge a run by what it does rather than by a second model of it.
struct BulkJobCost: Sendable, Equatable {
    var bulkJobs: Int
    var apiCalls: Int
    /// Pages of the result, headers included in ``SyncRunner`` byte forecasts.
    var pages: Int

    /// Rows per result page when a job sets no `page_size`: what Salesforce sends without `maxRecords` is not
    /// documented; 50,000 is what simple-salesforce asks for and what the emulator sends.
    static let defaultPageSize = 50_000
    /// Links per `resultPages` answer: Salesforce documents no number; 5 is what the emulator lists.
    static let linksPerListing = 5

    /// Result pages of `records` records (an empty result is still one page).
    static func pages(records: Int, pageSize: Int?) -> Int {
        let size = max(1, pageSize ?? defaultPageSize)
        return max(1, (records + size - 1) / size)
    }

    /// Calls that download one completed job's `records`: the `resultPages` listing's answers (when the run lists
    /// pages: more than one connection, API 58.0 on) and one per page; the locator chain costs the pages alone.
    static func downloadCalls(records: Int, pageSize: Int?, connections: Int, client: SalesforceClient) -> Int {
        let pages = pages(records: records, pageSize: pageSize)
        let lists = connections > 1 && (Double(client.configuration.apiVersion) ?? 0) >= 58
        return pages + (lists ? (pages + linksPerListing - 1) / linksPerListing : 0)
    }

    /// One data job: created, polled until complete (``SalesforceClient/expectedPolls(forJobSeconds:)``), its
    /// pages downloaded, deleted after the commit. Jobs submitted together are waited for in order: by the time the
    /// first completes, the others (as big) have too, and `waitedBehind` one needs a single poll.
    static func job(
        records: Int, jobSeconds: Double, pageSize: Int?, connections: Int, client: SalesforceClient, waitedBehind: Bool = false
    ) -> BulkJobCost {
        let calls = 1 + (waitedBehind ? 1 : client.expectedPolls(forJobSeconds: jobSeconds))
            + downloadCalls(records: records, pageSize: pageSize, connections: connections, client: client) + 1
        return BulkJobCost(bulkJobs: 1, apiCalls: calls, pages: pages(records: records, pageSize: pageSize))
    }

    /// Records per REST `query`/`queryAll` batch: Salesforce's default and largest batch size (wide records may
    /// come in smaller batches).
    static let restBatchRecords = 2_000

    /// A REST read of `records` (an object the Bulk API cannot read): one call per batch, no Bulk job.
    static func restRead(records: Int) -> BulkJobCost {
        let batches = max(1, (records + restBatchRecords - 1) / restBatchRecords)
        return BulkJobCost(bulkJobs: 0, apiCalls: batches, pages: batches)
    }

    /// The least one job costs (it reads nothing and completes at the first poll): what `api_budget` checks
    /// before creating one, when its size is not known yet.
    static func leastJob(client: SalesforceClient) -> Int {
        job(records: 0, jobSeconds: 0, pageSize: nil, connections: 1, client: client).apiCalls
    }

    /// Every Bulk job of a run of `plan` reading `records`: one job, or for `split: N` the two one-row queries
    /// that find where the ranges start (each created, polled, its page read, then checked and deleted by
    /// ``BulkJobs/abandon(_:)``) and N jobs sharing the records; the REST read of an object the Bulk API cannot
    /// read, and a wide object's planned parts, each reading every record.
    static func run(
        _ plan: SyncPlan, job definition: JobDefinition, records: Int, jobSeconds: (Int) -> Double, pageSize: Int?, connections: Int,
        client: SalesforceClient
    ) -> BulkJobCost {
        if SyncRunner.bulkUnsupportedObjects.contains(definition.object.lowercased()) { return restRead(records: records) }
        let parts = SyncRunner.plannedParts(definition, plan: plan)
        if parts > 0 {
            let one = job(records: records, jobSeconds: jobSeconds(records), pageSize: pageSize, connections: connections, client: client)
            return BulkJobCost(bulkJobs: parts * one.bulkJobs, apiCalls: parts * one.apiCalls, pages: parts * one.pages)
        }
        guard plan.split > 1 else {
            return job(records: records, jobSeconds: jobSeconds(records), pageSize: pageSize, connections: connections, client: client)
        }
        let bound = 1 + client.expectedPolls(forJobSeconds: jobSeconds(1)) + 1 + 2
        var total = BulkJobCost(bulkJobs: 2, apiCalls: 2 * bound - client.expectedPolls(forJobSeconds: jobSeconds(1)) + 1, pages: 0)
        for index in 0..<plan.split {
            let share = records / plan.split + (index < records % plan.split ? 1 : 0)
            let part = job(
                records: share, jobSeconds: jobSeconds(share), pageSize: pageSize, connections: connections, client: client,
                waitedBehind: index > 0)
            total.bulkJobs += 1
            total.apiCalls += part.apiCalls
            total.pages += part.pages
        }
        return total
    }
}
