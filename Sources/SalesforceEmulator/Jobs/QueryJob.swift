/// One Bulk API 2.0 query job and, once materialized, its results.
struct QueryJob: Sendable {
    enum State: String, Sendable {
        case uploadComplete = "UploadComplete", inProgress = "InProgress", jobComplete = "JobComplete"
        case failed = "Failed", aborted = "Aborted"

        var isTerminal: Bool { self == .jobComplete || self == .failed || self == .aborted }
    }

    let id: String
    let operation: String
    let object: String
    let soql: String
    let apiVersion: String
    let columnDelimiter: String
    let lineEnding: String
    let createdMillis: Int64
    let createdAt: ContinuousClock.Instant
    let inProgressAt: ContinuousClock.Instant
    let completeAt: ContinuousClock.Instant
    /// `.some(message)` when this job is doomed to fail (message may be nil).
    let plannedFailure: String??
    var slowPollsLeft: Int
    var state: State = .uploadComplete
    var results: JobResults?
    var errorMessage: String?
    var finishedMillis: Int64?

    /// What Salesforce reports for a query that failed after its internal retries.
    static let defaultFailure = "InternalServerError : Retried more than 15 times"

    /// Moves the state forward as time passes; called on every status poll.
    mutating func advance(now: ContinuousClock.Instant, nowMillis: Int64, isPoll: Bool) {
        guard !state.isTerminal else { return }
        if now < inProgressAt { return }
        state = .inProgress
        guard now >= completeAt, results != nil else { return }
        if slowPollsLeft > 0 {
            if isPoll { slowPollsLeft -= 1 }
            return
        }
        if let failure = plannedFailure {
            state = .failed
            // Real failed jobs carry a reason; without one a client has nothing to report.
            errorMessage = failure ?? Self.defaultFailure
            results = nil
        } else {
            state = .jobComplete
        }
        finishedMillis = nowMillis
    }

    func info(detailed: Bool) -> JSONValue {
        let stamp = Timestamps.restDatetime(millis: createdMillis)
        var members: [(String, JSONValue)] = [
            ("id", .string(id)), ("operation", .string(operation)), ("object", .string(object)),
            ("createdById", .string(SalesforceId.make(prefix: "005", index: 0))),
            ("createdDate", .string(stamp)),
            ("systemModstamp", .string(finishedMillis.map(Timestamps.restDatetime(millis:)) ?? stamp)),
            ("state", .string(state.rawValue)), ("concurrencyMode", "Parallel"), ("contentType", "CSV"),
            ("apiVersion", .number(apiVersion)), ("lineEnding", .string(lineEnding)),
            ("columnDelimiter", .string(columnDelimiter)),
        ]
        if detailed {
            members += [
                ("jobType", "V2Query"),
                ("numberRecordsProcessed", .int(state == .jobComplete ? results?.totalRows ?? 0 : 0)),
                ("retries", 0),
                ("totalProcessingTime", .int(state.isTerminal ? Int((completeAt - inProgressAt) / .milliseconds(1)) : 0)),
                ("isPkChunkingSupported", .bool(true)),
            ]
            if state == .failed { members.append(("errorMessage", .string(errorMessage ?? Self.defaultFailure))) }
        }
        return .object(members)
    }
}

/// A job's results: CSV pages of `pageSize` rows, each stored gzip-compressed with its own header row, so the
/// common request (default page size) is served without recompressing.
struct JobResults: Sendable {
    var header: [UInt8]
    var pages: [ResultPage]
    var pageSize: Int
    var totalRows: Int
    var lineEnding: [UInt8]
    var delimiter: UInt8

    /// Uncompressed CSV bytes of data row `row` (line ending included).
    func rowBytes(_ row: Int) -> Int { Int(pages[row / pageSize].rowSizes[row % pageSize]) }

    /// End (exclusive) of the page that starts at row `offset`: at most `maxRecords` rows and, like Salesforce's
    /// "still subject to the size limits", at most `maxBytes` of uncompressed CSV with its header row — but always at
    /// least one row, so a chain always moves on.
    func pageEnd(from offset: Int, maxRecords: Int, maxBytes: Int, total: Int) -> Int {
        let limit = min(total, offset + max(1, maxRecords))
        guard offset < limit else { return offset }
        var bytes = header.count + rowBytes(offset)
        var end = offset + 1
        while end < limit {
            let next = rowBytes(end)
            if bytes + next > maxBytes { break }
            bytes += next
            end += 1
        }
        return end
    }
}

struct ResultPage: Sendable {
    var gzip: [UInt8]
    var rows: Int
    var rawBytes: Int
    /// Uncompressed bytes of each row, for size-bounded pages.
    var rowSizes: [UInt32]
}
