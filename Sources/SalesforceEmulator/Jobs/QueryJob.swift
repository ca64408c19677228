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
            errorMessage = failure
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
            if state == .failed, let errorMessage { members.append(("errorMessage", .string(errorMessage))) }
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
}

struct ResultPage: Sendable {
    var gzip: [UInt8]
    var rows: Int
    var rawBytes: Int
}
