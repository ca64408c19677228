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
        if options.downloadConnections > 1 {
            // The listing's first answer decides: no listing means the locator chain; a single page needs no
            // parallel machinery. The rest of the listing is read while the first pages download.
            let listing = ResultPageListing(jobId: bulkJobId, maxRecords: job.pageSize, expectedRecords: expectedRecords)
            if let links = try listing.next(using: client), links.count > 1 || !listing.isDone {
                logger.debug(
                    "parallel download",
                    metadata: [
                        "sf.pages_listed": .stringConvertible(links.count), "sf.listing_complete": .stringConvertible(listing.isDone),
                        "sf.connections": .stringConvertible(options.downloadConnections),
                    ])
                return try client.downloadResults(
                    bulkJobId, links: links, listing: listing, expectedRecords: expectedRecords,
                    connections: options.downloadConnections,
                    maxPagesInFlight: options.maxPagesInFlight ?? options.downloadConnections * 2, into: consumer)
            }
        }
        return try client.downloadResults(
            bulkJobId, maxRecords: job.pageSize, expectedRecords: expectedRecords, into: consumer)
    }
}
