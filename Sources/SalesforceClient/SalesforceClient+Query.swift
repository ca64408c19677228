extension SalesforceClient {
    /// Runs a REST query (`GET /query?q=…`, or `/queryAll` for deleted and merged rows too) and hands its
    /// records to `onPage` one batch at a time, following `nextRecordsUrl`, so memory holds one batch (up to 2,000
    /// records), never the whole result. For small queries (boundaries, counts, lookups); bulk reads go through
    /// Bulk API 2.0.
    ///
    /// ```swift
    /// struct Row: Decodable { var Id: String }
    /// let summary = try client.query("SELECT Id FROM Contact ORDER BY Id LIMIT 1", as: Row.self) { rows in … }
    /// ```
    /// - Parameters:
    ///   - batchSize: records per batch (`Sforce-Query-Options: batchSize=`, 200…2000; Salesforce may send
    ///     fewer); `nil` lets Salesforce choose.
    ///   - type: one record; extra fields (`attributes`) are ignored, relationship fields decode as nested values.
    /// - Throws: `.invalidQuery` for SOQL Salesforce refuses; `.protocolViolation` for a record that does not
    ///   decode as `Record` or a `nextRecordsUrl` off the instance; `.incompleteResults` when the batches repeat
    ///   a `nextRecordsUrl` or their records do not add up to `totalSize`; whatever `onPage` throws, unchanged.
    public func query<Record: Decodable>(
        _ soql: String, operation: QueryOperation = .query, batchSize: Int? = nil, as type: Record.Type = Record.self,
        onPage: ([Record]) throws -> Void
    ) throws -> QuerySummary {
        let summary = try forEachBatch(soql, operation: operation, batchSize: batchSize) { response in
            let page = try LenientJSON.decode(QueryResultPage<Record>.self, from: response.body, what: "query result")
            try onPage(page.records)
            return (page.totalSize, page.records.count, page.done ? nil : page.nextRecordsUrl)
        }
        // Only `SELECT COUNT()` answers without records; otherwise the batches must add up.
        if summary.records > 0 && summary.records != summary.totalSize {
            throw SalesforceError(
                code: .incompleteResults,
                message: "The query delivered \(summary.records) records in \(summary.pages) batches, but Salesforce "
                    + "reported totalSize \(summary.totalSize).")
        }
        return summary
    }

    /// The REST paging loop: one batch at a time through `batch` (which reads it and says its `totalSize`, records
    /// and next link), following `nextRecordsUrl` and refusing a link that repeats.
    func forEachBatch(
        _ soql: String, operation: QueryOperation, batchSize: Int?,
        _ batch: (HTTPResponse) throws -> (totalSize: Int?, records: Int, next: String?)
    ) throws -> QuerySummary {
        let endpoint = operation == .queryAll ? "queryAll" : "query"
        var target: String? = APIRequest.path("\(dataPath)/\(endpoint)", query: [("q", soql)])
        let headers = batchSize.map { ["Sforce-Query-Options: batchSize=\($0)"] } ?? []
        var seen: Set<String> = []
        var summary = QuerySummary(totalSize: 0, records: 0, pages: 0)
        while let current = target {
            let response = try send(
                APIRequest(method: .get, target: .instance(current), purpose: .restQuery, headers: headers))
            let read = try batch(response)
            summary.pages += 1
            summary.totalSize = read.totalSize ?? summary.totalSize
            summary.records += read.records
            target = read.next
            if let next = target, !seen.insert(next).inserted {
                throw SalesforceError(
                    code: .incompleteResults,
                    message: "The query's batch \(summary.pages) points back to a batch it already sent; following "
                        + "it would loop forever (\(summary.records) records received).")
            }
        }
        return summary
    }
}
