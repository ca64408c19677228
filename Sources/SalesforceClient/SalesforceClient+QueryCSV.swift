/// What ``SalesforceClient/queryCSV(_:operation:fields:into:)`` read.
public struct CSVQuerySummary: Sendable {
    /// Batches, records and CSV bytes handed to the consumer (a batch without records is counted, not handed over).
    public var download: DownloadSummary
    /// Salesforce's `totalSize`, which the records delivered equal.
    public var totalSize: Int
    /// The first batch's HTTP `Date` header as sent (Salesforce's clock just after it ran the query); nil if absent.
    public var serverDate: String?
}

extension SalesforceClient {
    /// Reads a REST `query`/`queryAll` (for objects the Bulk API cannot read) as Bulk-style CSV result pages into
    /// `consumer`, one batch (up to 2,000 records) at a time along `nextRecordsUrl` (see ``RESTBatchCSV``): the
    /// same consumer, COPY and proofs as a Bulk job's results, memory one batch whatever the row count.
    /// - Parameters:
    ///   - fields: the SOQL's select list in order; the pages' header.
    ///   - beforeRest: called once the first batch tells `totalSize`, with the calls the other batches will take
    ///     (at the first batch's size), before any of them is asked for: where an API budget stops the read.
    /// - Throws: `.incompleteResults` when the records do not add up to `totalSize` or a link repeats;
    ///   `.invalidQuery` for SOQL Salesforce refuses; whatever `consumer` or `beforeRest` throws.
    public func queryCSV(
        _ soql: String, operation: QueryOperation, fields: [String], into consumer: any ResultPageConsumer,
        beforeRest: (_ calls: Int) throws -> Void = { _ in }
    ) throws -> CSVQuerySummary {
        var download = DownloadSummary(pages: 0, records: 0, bytes: 0)
        var serverDate: String?
        let summary = try forEachBatch(soql, operation: operation, batchSize: nil) { response in
            serverDate = serverDate ?? response.headers["date"]
            let batch = try RESTBatchCSV(body: response.body, fields: fields)
            download.pages += 1
            if batch.records > 0 {
                try consumer.beginPage(download.pages)
                try batch.csv.withUnsafeBytes { try consumer.consume($0) }
                try consumer.finishPage(download.pages, recordCount: batch.records)
                download.records += batch.records
                download.bytes += Int64(batch.csv.count)
            }
            let done = batch.done ?? (batch.nextRecordsUrl == nil)
            if download.pages == 1, !done, batch.records > 0 {
                let left = max(0, (batch.totalSize ?? batch.records) - batch.records)
                try beforeRest((left + batch.records - 1) / batch.records)
            }
            return (batch.totalSize, batch.records, done ? nil : batch.nextRecordsUrl)
        }
        guard summary.records == summary.totalSize else {
            throw SalesforceError(
                code: .incompleteResults,
                message: "The query delivered \(summary.records) records in \(summary.pages) batches, but Salesforce "
                    + "reported totalSize \(summary.totalSize).")
        }
        return CSVQuerySummary(download: download, totalSize: summary.totalSize, serverDate: serverDate)
    }
}
