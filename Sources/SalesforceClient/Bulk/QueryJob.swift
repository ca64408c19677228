import Foundation

/// Bulk API 2.0 query operation: live records only, or (`queryAll`) soft-deleted and merged ones too, with
/// `IsDeleted = true`.
public enum QueryOperation: String, Sendable { case query, queryAll }

/// A Bulk API 2.0 query job as Salesforce reports it.
public struct QueryJob: Sendable {
    /// Where a job is in its life: `UploadComplete → InProgress → JobComplete`, or `Failed` (often without a
    /// message) or `Aborted` (by a user, an admin or this client). A state this client does not know (a newer API
    /// version may add one) is kept in ``unknown(_:)`` and polled like a running job.
    public enum State: Sendable, Hashable, RawRepresentable, CustomStringConvertible {
        case uploadComplete, inProgress, jobComplete, failed, aborted
        case unknown(String)

        /// Salesforce's spelling, matched case-insensitively.
        public init(rawValue: String) {
            let known: [State] = [.uploadComplete, .inProgress, .jobComplete, .failed, .aborted]
            self = known.first { $0.rawValue.lowercased() == rawValue.lowercased() } ?? .unknown(rawValue)
        }

        /// Salesforce's spelling (`JobComplete`, …).
        public var rawValue: String {
            switch self {
            case .uploadComplete: "UploadComplete"
            case .inProgress: "InProgress"
            case .jobComplete: "JobComplete"
            case .failed: "Failed"
            case .aborted: "Aborted"
            case .unknown(let text): text
            }
        }

        public var description: String { rawValue }

        /// Whether the job can no longer change: `JobComplete`, `Failed` or `Aborted`.
        public var isTerminal: Bool { self == .jobComplete || self == .failed || self == .aborted }
    }

    /// 18-character job id (prefix `750`).
    public var id: String
    /// Where the job is; see ``State``.
    public var state: State
    /// The queried sObject.
    public var object: String?
    /// Rows produced so far; at `JobComplete` the total across all result pages.
    public var numberRecordsProcessed: Int?
    /// Salesforce's reason for `Failed`, often absent for query jobs.
    public var errorMessage: String?
    /// The API version the job was created with (results must be fetched with the same one).
    public var apiVersion: String?
    /// When Salesforce created the job, by Salesforce's clock: every row in its results was read at or after it.
    public var createdDate: Date?

    /// Whether the job reached `JobComplete`, `Failed` or `Aborted`.
    public var isTerminal: Bool { state.isTerminal }
}

extension QueryJob: Decodable {
    private enum CodingKeys: String, CodingKey {
        case id, state, object, numberRecordsProcessed, errorMessage, apiVersion, createdDate
    }

    /// Reads a job info body (create, status, abort); only `id` and `state` are required.
    public init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        guard let id = json.lenientString(.id), let state = json.lenientString(.state) else {
            throw SalesforceError(
                code: .protocolViolation, message: "Salesforce sent a query job without 'id' or 'state'.")
        }
        self.init(
            id: id, state: State(rawValue: state), object: json.lenientString(.object),
            numberRecordsProcessed: json.lenientInt(.numberRecordsProcessed),
            errorMessage: json.lenientString(.errorMessage), apiVersion: json.lenientVersion(.apiVersion),
            createdDate: json.lenientString(.createdDate).flatMap(SalesforceDateTime.parse))
    }
}

/// Receives result pages as a stream of bytes, one page at a time.
///
/// For each page the client calls ``beginPage(_:)`` once the first decoded byte of a successful response arrives,
/// then ``consume(_:)`` as bytes arrive, then ``finishPage(_:recordCount:)`` once the page is proven complete. If a
/// page turns out incomplete it calls ``discardPage(_:)`` and fetches that page again from its start
/// (``beginPage(_:)`` again). Every ``beginPage(_:)`` is closed by exactly one ``finishPage(_:recordCount:)`` or
/// ``discardPage(_:)``, also when the download fails or is cancelled mid-page (the discard comes first, then the
/// error). A page with an empty body (0 records) is never begun. Throwing from any method stops the download and the
/// error is rethrown as is; after a throw from ``consume(_:)`` or ``finishPage(_:recordCount:)`` the client still
/// calls ``discardPage(_:)``, which must then be a harmless no-op. Page numbers are positions in the result chain
/// (1-based); an empty page leaves a gap.
public protocol ResultPageConsumer: AnyObject {
    /// A new page starts (1-based).
    func beginPage(_ number: Int) throws
    /// gzip-decoded CSV bytes as they arrive, header row included on every page; valid only during the call.
    func consume(_ bytes: UnsafeRawBufferPointer) throws
    /// The page arrived completely; `recordCount` is its verified number of records (CSV lines outside quotes
    /// minus the header, equal to `Sforce-NumberOfRecords` when Salesforce sent it).
    func finishPage(_ number: Int, recordCount: Int) throws
    /// The page failed half-way and will be re-fetched from its start.
    func discardPage(_ number: Int) throws
    /// The locator chain's `Sforce-Locator` after page `number` (nil at the end), just before its `finishPage`:
    /// a consumer that records its pages can resume the chain there.
    func nextLocator(_ locator: String?, afterPage number: Int)
}

extension ResultPageConsumer {
    public func nextLocator(_ locator: String?, afterPage number: Int) {}
}

/// What ``SalesforceClient/downloadResults(_:maxRecords:expectedRecords:into:)`` delivered.
public struct DownloadSummary: Sendable {
    /// Result pages received, including empty ones (0 records) that were not handed to the consumer.
    public var pages: Int
    /// Sum of the verified record counts of those pages.
    public var records: Int
    /// Decoded bytes handed to the consumer (discarded attempts not counted).
    public var bytes: Int64
    /// Most result pages downloaded or spooled but not yet consumed at any one time (1 for the sequential chain).
    public var peakPagesInFlight = 1
    /// Connections that fetched pages at once (1 for the sequential chain).
    public var connections = 1
    /// Most decoded bytes held in spool files at any one time (0 for the sequential chain, which spools nothing);
    /// at most ``SalesforceConfiguration/spoolBudgetBytes`` unless a single page is larger.
    public var peakSpooledBytes: Int64 = 0

    public init(pages: Int, records: Int, bytes: Int64) {
        (self.pages, self.records, self.bytes) = (pages, records, bytes)
    }
}
