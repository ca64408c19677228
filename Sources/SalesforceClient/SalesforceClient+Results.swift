import Foundation
import Logging

extension SalesforceClient {
    /// What one fetched result page turned out to be.
    struct FetchedPage {
        /// `Sforce-Locator` as sent (`nil` when absent).
        var next: String?
        /// Verified record count (lines outside quotes minus the header, equal to `Sforce-NumberOfRecords`).
        var records: Int
        /// Decoded bytes handed to the consumer.
        var bytes: Int64
        /// Whether the consumer got the page (`false` for an empty body, which never becomes a COPY).
        var delivered: Bool
    }

    /// Streams every result page of a completed job into `consumer`, following `Sforce-Locator`.
    ///
    /// Pages are never held in memory: bytes go to the consumer as they are decoded. A page is accepted only when
    /// it is provably complete (gzip end and checksum, or exact Content-Length; ends with a line ending outside
    /// quotes; as many records as `Sforce-NumberOfRecords`). Anything else (reset, truncated gzip, a cut last
    /// record, an empty body where records were announced) is discarded and re-fetched from its locator. A missing,
    /// empty or `null` locator ends the chain.
    /// - Parameters:
    ///   - maxRecords: rows per page (`maxRecords` query parameter); `nil` lets Salesforce choose.
    ///   - expectedRecords: the job's `numberRecordsProcessed`. When known, the chain must deliver exactly that many
    ///     records in at most `max(expectedRecords, 1) + 1` pages; a chain that repeats a locator fails either way.
    ///   - start: the locator to begin at (a resumed download: `expectedRecords` then counts the rest only).
    /// - Throws: ``SalesforceError`` (`.incompleteResults` when a page stays incomplete after the retries or the
    ///   chain disagrees with `expectedRecords`), or whatever the consumer throws (unchanged).
    public func downloadResults(
        _ jobId: String, maxRecords: Int?, expectedRecords: Int?, from start: String? = nil,
        into consumer: some ResultPageConsumer
    ) throws -> DownloadSummary {
        var summary = DownloadSummary(pages: 0, records: 0, bytes: 0)
        var locator = start
        var seenLocators: Set<String> = []
        // Every page but a zero-row job's only one holds at least one record, so a longer chain is a server bug;
        // the cap stops one that never ends without a repeated locator.
        let pageCap = expectedRecords.map { max($0, 1) + 1 }
        while true {
            if let pageCap, summary.pages >= pageCap {
                throw SalesforceError(
                    code: .incompleteResults,
                    message: "The result chain of job \(jobId) did not end after \(summary.pages) pages although the "
                        + "job has \(expectedRecords ?? 0) records; stopped following it.")
            }
            var query: [(String, String)] = []
            if let maxRecords { query.append(("maxRecords", String(maxRecords))) }
            // The locator comes from a response header: encoded, so it cannot add parameters or leave the query.
            if let locator { query.append(("locator", locator)) }
            let target = APIRequest.path("\(dataPath)/jobs/query/\(jobId)/results", query: query)
            let number = summary.pages + 1
            let page = try downloadPage(target, number: number, jobIsEmpty: expectedRecords == 0, into: consumer)
            summary.pages += 1
            summary.records += page.records
            summary.bytes += page.bytes
            try Self.checkRecordTotal(summary.records, afterPage: number, of: jobId, expected: expectedRecords)
            guard let next = page.next, !next.isEmpty, next != "null" else { break }
            guard seenLocators.insert(next).inserted else {
                throw SalesforceError(
                    code: .incompleteResults,
                    message: "Salesforce sent page \(number) of job \(jobId) with a locator it had already sent; "
                        + "following it would loop forever (\(summary.records) records received so far).")
            }
            locator = next
        }
        logger.debug(
            "Downloaded results",
            metadata: [
                "sf.job": "\(jobId)", "sf.pages": .stringConvertible(summary.pages),
                "sf.records": .stringConvertible(summary.records),
            ])
        return summary
    }

    /// Fetches one page, with retries, into `consumer`; its verified record count comes back.
    ///
    /// Internal so the parallel download's workers fetch each link with the same retries and checks. If it throws
    /// after `beginPage`, the consumer's page is discarded first, so a loader never keeps a COPY open.
    /// - Parameter jobIsEmpty: the job reported 0 records (an empty body without a record count is then complete).
    func downloadPage(
        _ target: String, number: Int, jobIsEmpty: Bool, into consumer: some ResultPageConsumer
    ) throws -> FetchedPage {
        let page = PageReceiver(consumer, number: number, jobIsEmpty: jobIsEmpty, logger: logger)
        do {
            let response = try send(
                APIRequest(
                    method: .get, target: .instance(target),
                    purpose: .resultPage(number: number, apiVersion: configuration.apiVersion), stream: page))
            let next = response.headers["sforce-locator"]
            guard page.begun else {
                logger.debug("Empty result page (0 records) not handed to the consumer", metadata: ["sf.page": .stringConvertible(number)])
                return FetchedPage(next: next, records: 0, bytes: 0, delivered: false)
            }
            consumer.nextLocator(next.flatMap { $0.isEmpty || $0 == "null" ? nil : $0 }, afterPage: number)
            try consumer.finishPage(number, recordCount: page.counter.records)
            logger.debug(
                "Result page downloaded",
                metadata: [
                    "sf.page": .stringConvertible(number), "sf.records": .stringConvertible(page.counter.records),
                    "sf.bytes": .stringConvertible(page.counter.bytes),
                ])
            return FetchedPage(next: next, records: page.counter.records, bytes: page.counter.bytes, delivered: true)
        } catch {
            // Retries ran out, cancellation, or the consumer failed: never leave its page (a COPY) open. A consumer
            // that failed itself has already closed its page, so this discard is a no-op there.
            if page.begun { try? consumer.discardPage(number) }
            if var failure = error as? SalesforceError, failure.code == .incompleteResults {
                failure.message = "Result page \(number) stayed incomplete: " + failure.message
                throw failure
            }
            throw error
        }
    }

    /// Refuses a chain that has delivered more records than the job reported, as soon as it shows.
    static func checkRecordTotal(_ records: Int, afterPage number: Int, of jobId: String, expected: Int?) throws {
        guard let expected, records > expected else { return }
        throw SalesforceError(
            code: .incompleteResults,
            message: "The results of job \(jobId) hold more records than the job reported: \(records) after page "
                + "\(number), numberRecordsProcessed is \(expected).")
    }

    static func announcedRecords(_ response: HTTPResponse) -> Int? {
        response.headers["sforce-numberofrecords"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Lists the result page links of a completed job (`GET …/resultPages`, API 58.0+), following the next-page
    /// link until done. Accepts `resultLink` or `resultUrl`, and `nextRecordsUrl` or `nextRecordUrl`.
    ///
    /// - Parameter expectedRecords: the job's `numberRecordsProcessed`; when known, more than
    ///   `max(expectedRecords, 1)` links are refused (each page holds at least one record).
    /// - Returns: the links (paths or URLs, fetchable like `…/results?locator=…`), or `nil` when the org does not
    ///   offer the resource (API below 58.0, a 400/404/405/410, or a first answer that is no listing): then use
    ///   the locator chain of ``downloadResults(_:maxRecords:expectedRecords:into:)``.
    /// - Throws: `.incompleteResults` when the listing repeats a next-page URL or a link, or has too many links.
    public func resultPageLinks(_ jobId: String, maxRecords: Int? = nil, expectedRecords: Int?) throws -> [String]? {
        let listing = ResultPageListing(jobId: jobId, maxRecords: maxRecords, expectedRecords: expectedRecords)
        guard var links = try listing.next(using: self) else { return nil }
        while let more = try listing.next(using: self) { links += more }
        return links
    }

    /// Refuses a URL from a response that ``send`` would not follow (see ``URLPolicy/resolve(_:instance:what:)``).
    func checkResponseURL(_ url: String, what: String) throws {
        guard let session else { throw SalesforceError(code: .invalidSession, message: "Not authenticated.") }
        _ = try URLPolicy.resolve(url, instance: session.instance, what: what)
    }
}
