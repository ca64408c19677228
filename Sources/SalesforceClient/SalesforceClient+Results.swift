import Foundation
import Logging

extension SalesforceClient {
    /// Streams every result page of a completed job into `consumer`, following `Sforce-Locator`.
    ///
    /// Pages are never held in memory: bytes go to the consumer as libcurl decodes them. A page that fails
    /// half-way (reset, truncated gzip, 5xx after a partial body) is discarded and re-fetched from its locator.
    /// A missing, empty or `null` locator ends the chain.
    /// - Parameter maxRecords: rows per page (`maxRecords` query parameter); `nil` lets Salesforce choose.
    /// - Throws: ``SalesforceError``, or whatever the consumer throws (unchanged).
    public func downloadResults(
        _ jobId: String, maxRecords: Int?, into consumer: some ResultPageConsumer
    ) throws -> DownloadSummary {
        var summary = DownloadSummary(pages: 0, records: 0, bytes: 0)
        var locator: String?
        while true {
            var query: [String] = []
            if let maxRecords { query.append("maxRecords=\(maxRecords)") }
            if let locator { query.append("locator=\(locator)") }
            let target = "\(dataPath)/jobs/query/\(jobId)/results" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
            let (next, page) = try downloadPage(target, number: summary.pages + 1, into: consumer)
            if let page {
                summary.pages += 1
                summary.records += page.records
                summary.bytes += page.bytes
            }
            guard let next, !next.isEmpty, next != "null" else { break }
            locator = next
        }
        logger.debug(
            "Downloaded results",
            metadata: ["sf.job": "\(jobId)", "sf.pages": "\(summary.pages)", "sf.records": "\(summary.records)"])
        return summary
    }

    /// Fetches one page; returns the next locator and what the consumer got (`nil` for an empty body).
    /// Internal so the parallel download's workers fetch each link with the same retries and checks.
    func downloadPage(
        _ target: String, number: Int, into consumer: some ResultPageConsumer
    ) throws -> (next: String?, page: (records: Int, bytes: Int64)?) {
        var begun = false
        var bytes: Int64 = 0
        var counter = CSVRecordCounter()
        let response = try send(
            "GET", target, accept: "text/csv",
            responseHeaders: ["Sforce-Locator", "Sforce-NumberOfRecords"],
            sink: { chunk in
                if !begun {
                    try consumer.beginPage(number)
                    begun = true
                }
                try consumer.consume(chunk)
                counter.add(chunk)
                bytes += Int64(chunk.count)
            },
            beforeRetry: {
                guard begun else { return }
                self.logger.debug("Discarding partial page", metadata: ["sf.page": "\(number)", "sf.bytes": "\(bytes)"])
                try consumer.discardPage(number)
                begun = false
                bytes = 0
                counter = CSVRecordCounter()
            },
            describeFailure: { status, server in
                guard status == 412 || status == 409 || status == 404 else { return nil }
                return SalesforceError(
                    code: .http,
                    message: "Salesforce refused the results of page \(number): \(server?.message ?? "no message"). "
                        + "Results need a JobComplete job that still exists (jobs expire after 7 days) and the same "
                        + "API version the job was created with (\(self.configuration.apiVersion) here).",
                    httpStatus: status, errorCode: server?.errorCode)
            },
            validate: { response in
                let expected = response.headers["sforce-numberofrecords"].flatMap {
                    Int($0.trimmingCharacters(in: .whitespaces))
                }
                return counter.inconsistency(expectedRecords: expected)
            })
        let records = response.headers["sforce-numberofrecords"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard begun else {
            logger.debug("Empty result page skipped", metadata: ["sf.page": "\(number)"])
            return (response.headers["sforce-locator"], nil)
        }
        try consumer.finishPage(number, recordCount: records)
        logger.debug(
            "Result page downloaded",
            metadata: ["sf.page": "\(number)", "sf.records": "\(records ?? -1)", "sf.bytes": "\(bytes)"])
        // Without the header, the quote-aware line count (minus the header row) is the best available figure.
        return (response.headers["sforce-locator"], (records ?? max(counter.lines - 1, 0), bytes))
    }

    /// Lists the result page links of a completed job (`GET …/resultPages`, API 58.0+), following the next-page
    /// link until done. Accepts `resultLink` or `resultUrl`, and `nextRecordsUrl` or `nextRecordUrl`.
    ///
    /// - Returns: the links (paths or URLs, fetchable like `…/results?locator=…`), or `nil` when the org does not
    ///   offer the resource (404): then use the locator chain of ``downloadResults(_:maxRecords:into:)``.
    public func resultPageLinks(_ jobId: String, maxRecords: Int? = nil) throws -> [String]? {
        var links: [String] = []
        var target: String? = "\(dataPath)/jobs/query/\(jobId)/resultPages" + (maxRecords.map { "?maxRecords=\($0)" } ?? "")
        var notFound = false
        while let current = target {
            let response: HTTPResponse
            do {
                response = try send(
                    "GET", current,
                    describeFailure: { status, _ in
                        if status == 404 { notFound = true }
                        return nil
                    })
            } catch let error as SalesforceError where notFound && links.isEmpty && error.httpStatus == 404 {
                logger.debug("resultPages not available; use the locator chain", metadata: ["sf.job": "\(jobId)"])
                return nil
            }
            let json = try JSONObject(parsing: response.body, what: "resultPages response")
            for page in json.objects("resultPages") {
                if let link = page.string("resultLink") ?? page.string("resultUrl") { links.append(link) }
            }
            let next = json.string("nextRecordsUrl") ?? json.string("nextRecordUrl")
            let done = json.bool("done") ?? (next == nil)
            target = done || next == nil || next == "null" || next == "" ? nil : next
        }
        return links
    }
}
