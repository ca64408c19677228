import Logging
import SalesforceClient

extension SyncRunner {
    /// Downloads a completed Bulk job's results into `consumer`: over `options.downloadConnections` connections
    /// when there are several pages and the org lists them (`resultPages`), else along the sequential locator chain.
    /// - Parameter expectedRecords: the job's `numberRecordsProcessed`, which caps the result chains.
    func downloadResults(
        _ bulkJobId: String, expectedRecords: Int?, job: JobDefinition, options: SyncOptions, into consumer: PageLoader,
        logger: Logger
    ) throws -> DownloadSummary {
        if options.downloadConnections > 1,
            let links = try client.resultPageLinks(bulkJobId, maxRecords: job.pageSize, expectedRecords: expectedRecords),
            links.count > 1
        {
            logger.debug(
                "parallel download", metadata: ["sf.pages": "\(links.count)", "sf.connections": "\(options.downloadConnections)"])
            return try client.downloadResults(
                bulkJobId, links: links, expectedRecords: expectedRecords, connections: options.downloadConnections,
                maxPagesInFlight: options.maxPagesInFlight ?? options.downloadConnections * 2, into: consumer)
        }
        return try client.downloadResults(
            bulkJobId, maxRecords: job.pageSize, expectedRecords: expectedRecords, into: consumer)
    }
}
