import CivilTime
import Synchronization

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
    let inProgressAt: ContinuousClock.Instant
    let completeAt: ContinuousClock.Instant
    /// `.some(message)` when this job is doomed to fail (message may be nil).
    let plannedFailure: String??
    var slowPollsLeft: Int
    var state: State = .uploadComplete
    var results: JobResults?
    var errorMessage: String?
    var finishedMillis: Int64?
    var inProgressMillis: Int64?

    /// What Salesforce reports for a query that failed after its internal retries.
    static let defaultFailure = "InternalServerError : Retried more than 15 times"

    /// Moves the state forward as time passes; called on every status poll.
    mutating func advance(now: ContinuousClock.Instant, nowMillis: Int64, isPoll: Bool) {
        guard !state.isTerminal else { return }
        if now < inProgressAt { return }
        // Salesforce moves a job's systemModstamp at each state change.
        if state != .inProgress { inProgressMillis = nowMillis }
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
            ("systemModstamp", .string((finishedMillis ?? inProgressMillis).map(Timestamps.restDatetime(millis:)) ?? stamp)),
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

/// Which table rows a job returns, in output order. An unfiltered, unordered query keeps no list at all: its
/// rows are every index except a sparse, sorted set (hard-deleted, hidden, and for `query` soft-deleted records), so
/// a job over 100 million generated records costs a few bytes until a page is asked for.
enum RowSource: Sendable {
    case allExcept(count: Int, excluded: [Int], limit: Int)
    /// Filtered or ordered queries: the matching indices (4 bytes each).
    case list([UInt32])

    var total: Int {
        switch self {
        case .allExcept(let count, let excluded, let limit): min(limit, count - excluded.count)
        case .list(let rows): rows.count
        }
    }

    /// Calls `body` with the table index of each output row in `[from, to)`, in order.
    func forEach(from: Int, to: Int, _ body: (Int) -> Bool) {
        guard from < to else { return }
        switch self {
        case .list(let rows):
            for k in from..<min(to, rows.count) where !body(Int(rows[k])) { return }
        case .allExcept(_, let excluded, _):
            // Excluded index e_j has j excluded before it, so e_j - j included rows; those with e_j - j <= from
            // come before output row `from`.
            var lo = 0, hi = excluded.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if excluded[mid] - mid <= from { lo = mid + 1 } else { hi = mid }
            }
            var next = lo
            var index = from + lo
            for _ in from..<to {
                while next < excluded.count && excluded[next] == index {
                    index += 1
                    next += 1
                }
                if !body(index) { return }
                index += 1
            }
        }
    }
}

/// A job's results, rendered on demand: the query, the snapshot it ran on and the rows it selected. Pages are
/// written (and compressed) per request, so memory stays flat however many records the job returns.
struct JobResults: Sendable {
    var selection: Selection
    var writer: CSVWriter
    var header: [UInt8]
    var totalRows: Int { selection.rows.total }
    var lineEnding: [UInt8] { writer.lineEnding }
    var delimiter: UInt8 { writer.delimiter }
    /// Page ends already computed, by "offset/maxRecords/maxBytes", so `resultPages` and `results` agree cheaply.
    let pageEnds = PageEnds()
    let rendered = RenderedPages()
    /// What makes this job's pages the same as another job's (query, CSV options, data version), when the
    /// emulator shares rendered pages across jobs (``ResultCache``); nil otherwise.
    var cacheKey: String?

    /// The ``ResultCache`` key of one page (its end; with `gzip`, its body as sent); nil when not shared.
    func cacheKey(offset: Int, maxRecords: Int, maxBytes: Int, total: Int, gzip: Bool? = nil) -> String? {
        cacheKey.map { "\($0)|\(offset)|\(maxRecords)|\(maxBytes)|\(total)" + (gzip.map { "|\($0)" } ?? "") }
    }

    /// The CSV page that starts at output row `offset`: at most `maxRecords` rows and, like Salesforce's "still
    /// subject to the size limits", at most `maxBytes` of uncompressed CSV with its header row, but always at least
    /// one row, so a chain always moves on. Returns the bytes and the end (exclusive) of the page.
    func render(from offset: Int, maxRecords: Int, maxBytes: Int, total: Int) -> (csv: [UInt8], end: Int) {
        var out = header
        let limit = min(total, offset + max(1, maxRecords))
        var end = offset
        let (query, table, snapshot) = (selection.query, selection.table, selection.snapshot)
        selection.rows.forEach(from: offset, to: limit) { i in
            let before = out.count
            ResultMaterializer.appendRow(i, query: query, table: table, snapshot: snapshot, writer: writer, into: &out)
            if out.count > maxBytes && end > offset {
                out.removeLast(out.count - before)
                return false
            }
            end += 1
            return true
        }
        pageEnds.store(offset: offset, maxRecords: maxRecords, maxBytes: maxBytes, total: total, end: end)
        return (out, end)
    }

    /// End (exclusive) of the page that starts at `offset` (rendering it if it was never rendered).
    ///
    /// A `resultPages` listing must render each page to find where the byte limit ends it, and the client asks for
    /// those very pages next: the rendered bytes are kept (up to ``RenderedPages/capacity``) for that one request,
    /// so a listed page is rendered once, not twice.
    func pageEnd(from offset: Int, maxRecords: Int, maxBytes: Int, total: Int) -> Int {
        if offset >= total { return offset }
        if let end = pageEnds.lookup(offset: offset, maxRecords: maxRecords, maxBytes: maxBytes, total: total) {
            return end
        }
        let page = render(from: offset, maxRecords: maxRecords, maxBytes: maxBytes, total: total)
        rendered.keep(page.csv, end: page.end, key: PageEnds.key(offset, maxRecords, maxBytes, total))
        return page.end
    }

    /// The page that starts at `offset`: the bytes a listing kept (handed out once), else rendered now.
    func page(from offset: Int, maxRecords: Int, maxBytes: Int, total: Int) -> (csv: [UInt8], end: Int) {
        rendered.take(PageEnds.key(offset, maxRecords, maxBytes, total))
            ?? render(from: offset, maxRecords: maxRecords, maxBytes: maxBytes, total: total)
    }
}

/// Pages a `resultPages` listing rendered, waiting for their one `results` request. Bounded in bytes across every
/// job (a listed page that is never fetched stays until its job is deleted): past the capacity a page is simply
/// rendered again when asked for, so memory stays flat whatever the jobs' sizes.
final class RenderedPages: Sendable {
    static let capacity = 96 << 20
    private static let allBytes = Atomic<Int>(0)
    private let pages = Mutex<[String: (csv: [UInt8], end: Int)]>([:])

    func keep(_ csv: [UInt8], end: Int, key: String) {
        pages.withLock { pages in
            guard pages[key] == nil else { return }
            let total = Self.allBytes.add(csv.count, ordering: .relaxed).newValue
            guard total <= Self.capacity else {
                Self.allBytes.subtract(csv.count, ordering: .relaxed)
                return
            }
            pages[key] = (csv, end)
        }
    }

    func take(_ key: String) -> (csv: [UInt8], end: Int)? {
        pages.withLock { pages in
            guard let page = pages.removeValue(forKey: key) else { return nil }
            Self.allBytes.subtract(page.csv.count, ordering: .relaxed)
            return page
        }
    }

    deinit {
        let left = pages.withLock { $0.values.reduce(0) { $0 + $1.csv.count } }
        Self.allBytes.subtract(left, ordering: .relaxed)
    }
}

/// A small memo of page boundaries.
final class PageEnds: Sendable {
    private let ends = Mutex<[String: Int]>([:])

    static func key(_ offset: Int, _ maxRecords: Int, _ maxBytes: Int, _ total: Int) -> String {
        "\(offset)/\(maxRecords)/\(maxBytes)/\(total)"
    }

    func lookup(offset: Int, maxRecords: Int, maxBytes: Int, total: Int) -> Int? {
        ends.withLock { $0[Self.key(offset, maxRecords, maxBytes, total)] }
    }

    func store(offset: Int, maxRecords: Int, maxBytes: Int, total: Int, end: Int) {
        ends.withLock { ends in
            if ends.count > 100_000 { ends.removeAll() }
            ends[Self.key(offset, maxRecords, maxBytes, total)] = end
        }
    }
}

/// Rendered result pages shared across jobs that read the same data the same way (opt-in, for benchmarks; see
/// ``EmulatorConfiguration/resultCacheBytes``): page ends for `resultPages` listings and the bodies as sent.
/// Bounded in bytes; once full, new pages are simply not kept.
final class ResultCache: Sendable {
    private let capacity: Int
    private let entries = Mutex<(bytes: Int, ends: [String: Int], bodies: [String: (body: [UInt8], end: Int)])>((0, [:], [:]))

    init(capacity: Int) { self.capacity = capacity }

    func end(_ key: String) -> Int? { entries.withLock { $0.ends[key] } }

    func storeEnd(_ end: Int, _ key: String) { entries.withLock { $0.ends[key] = end } }

    /// Bodies served from the cache.
    let hits = Atomic<Int>(0)

    func body(_ key: String) -> (body: [UInt8], end: Int)? {
        let found = entries.withLock { $0.bodies[key] }
        if found != nil { hits.add(1, ordering: .relaxed) }
        return found
    }

    func storeBody(_ body: [UInt8], end: Int, _ key: String) {
        entries.withLock { entries in
            guard entries.bodies[key] == nil, entries.bytes + body.count <= capacity else { return }
            entries.bodies[key] = (body, end)
            entries.bytes += body.count
        }
    }

    /// SOQL whose results change with the clock alone (relative date literals), which no cache may keep. Whole
    /// tokens only: `Last_Survey__c` or `LastName` are field names, `LAST_N_DAYS:7` and `TODAY` are literals.
    static func dependsOnTheClock(_ soql: String) -> Bool {
        let units = "(WEEK|MONTH|QUARTER|YEAR|FISCAL_QUARTER|FISCAL_YEAR)"
        let plural = "(DAYS|WEEKS|MONTHS|QUARTERS|YEARS|FISCAL_QUARTERS|FISCAL_YEARS)"
        let patterns = [
            "^(YESTERDAY|TODAY|TOMORROW)$", "^(LAST|THIS|NEXT)_\(units)$", "^(LAST|NEXT)_90_DAYS$",
            "^(LAST|NEXT)_N_\(plural)$", "^N_\(plural)_AGO$",
        ]
        let tokens = soql.uppercased().split { !($0.isLetter || $0.isNumber || $0 == "_") }
        return tokens.contains { token in
            patterns.contains { String(token).range(of: $0, options: .regularExpression) != nil }
        }
    }
}
