/// One batch of a REST `query`/`queryAll`: `{totalSize, done, nextRecordsUrl?, records[]}`. The last batch has
/// `done: true` and no `nextRecordsUrl` at all; `SELECT COUNT()` answers `totalSize` with no records.
struct QueryResultPage<Record: Decodable>: Decodable {
    var totalSize: Int?
    var done: Bool
    /// The next batch's path, or `nil` at the end (absent, `null`, empty or the text `null`).
    var nextRecordsUrl: String?
    /// Decoded strictly: a record that does not fit `Record` fails the page, since skipping it would lose a row.
    var records: [Record]

    private enum CodingKeys: String, CodingKey { case totalSize, done, nextRecordsUrl, records }

    init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        totalSize = json.lenientInt(.totalSize)
        nextRecordsUrl = json.lenientString(.nextRecordsUrl).flatMap { $0.isEmpty || $0 == "null" ? nil : $0 }
        done = json.lenientBool(.done) ?? (nextRecordsUrl == nil)
        records = try json.decodeIfPresent([Record].self, forKey: .records) ?? []
    }
}

/// What ``SalesforceClient/query(_:operation:batchSize:as:onPage:)`` read.
public struct QuerySummary: Sendable, Equatable {
    /// Salesforce's `totalSize`: the rows the query matched (for `SELECT COUNT() …`, the count itself).
    public var totalSize: Int
    /// Records handed over, over all batches.
    public var records: Int
    /// Batches fetched.
    public var pages: Int
}
