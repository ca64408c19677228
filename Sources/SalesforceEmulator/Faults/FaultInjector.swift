import Synchronization

/// Switches that make the emulator misbehave the way Salesforce and its network sometimes do. Thread-safe;
/// settable in-process and through the admin API (`POST /__emulator/faults`). Each fault is counted: it fires for
/// the next `count` matching occasions and then disarms itself.
public final class FaultInjector: Sendable {
    /// An armed HTTP error response.
    struct HTTPFault: Sendable {
        var status: Int
        var body: String
        var skip: Int
        var remaining: Int
        var pathContains: String?
    }

    /// What to do to a results body (see the arming functions below).
    enum BodyFault: Sendable, Equatable {
        case reset(afterBytes: Int?), truncate, emptyGzip, cutAfterDelimiter
    }

    struct State: Sendable {
        var httpFaults: [HTTPFault] = []
        var resets: (count: Int, afterBytes: Int?) = (0, nil)
        var truncations = 0
        var jobFailures: (count: Int, message: String?) = (0, nil)
        /// Armed ``failQueries(containing:count:errorMessage:)`` faults, consulted in the order they were armed.
        var queryFailures: [QueryFailure] = []
        var requestLimit = 0
        var expireAfterCalls: Int?
        var slowPolls: (jobs: Int, polls: Int) = (0, 0)
        var bytesPerSecond: Int?
        var latency: Duration?
        var emptyGzipPages = 0
        var cutAfterDelimiter = 0
        /// Jobs still to be armed for a short chain, and the jobs armed so far.
        var shortTotal: (armed: Int, jobs: Set<String>) = (0, [])
        var loopLocators = 0
        var hostileLinks: (link: String, count: Int, placement: HostileLinkPlacement) = ("", 0, .both)
        var hostileInstanceURL: (url: String, count: Int) = ("", 0)
        var describePadding: Int?
        var hostileLocator: (value: String, count: Int) = ("", 0)
        /// Results pages of jobs whose SOQL the predicate accepts wait this long before they are answered.
        var slowResults: (delay: Duration, matches: @Sendable (String) -> Bool)?
    }

    /// Where ``hostileResultLinks(_:count:placement:)`` puts its link in a `resultPages` response: every
    /// `resultLink`, `nextRecordsUrl` (with `done: false`), or both.
    public enum HostileLinkPlacement: Sendable { case pageLinks, nextRecordsUrl, both }

    let state = Mutex(State())

    init() {}

    /// Answers the next `count` requests whose path contains `pathContains` (any request when `nil`) with
    /// `status` and a JSON-array error body, after letting `afterRequests` matching requests through. So
    /// `afterRequests: 2` fails the third one.
    public func failRequests(
        status: Int = 500, count: Int = 1, afterRequests: Int = 0, pathContains: String? = nil, body: String? = nil
    ) {
        let defaultBody =
            status == 429 || status == 503
            ? #"[{"errorCode":"SERVER_UNAVAILABLE","message":"Server is temporarily unavailable. Try again later."}]"#
            : #"[{"errorCode":"UNKNOWN_EXCEPTION","message":"An unexpected error occurred. Please include this ErrorId if you contact support: 1234567-89 (-1)"}]"#
        let fault = HTTPFault(
            status: status, body: body ?? defaultBody, skip: afterRequests, remaining: count,
            pathContains: pathContains)
        state.withLock { $0.httpFaults.append(fault) }
    }

    /// Drops the connection in the middle of the next `count` results-page bodies (after `afterBytes`, default
    /// half the body).
    public func resetConnectionMidBody(count: Int = 1, afterBytes: Int? = nil) {
        state.withLock { $0.resets = (count, afterBytes) }
    }

    /// Cuts the next `count` gzip results bodies short (the transfer itself completes).
    public func truncateGzip(count: Int = 1) { state.withLock { $0.truncations = count } }

    /// The next `count` gzip results bodies are only the 10-byte gzip header, with a matching Content-Length and a
    /// clean end; headers (`Sforce-NumberOfRecords` included) are unchanged. libcurl's own decoder takes this as an
    /// empty body.
    public func emptyGzipPage(count: Int = 1) { state.withLock { $0.emptyGzipPages = count } }

    /// The next `count` results pages carry their CSV cut right after the last delimiter of the last record (no last
    /// field, no line ending), as a correctly framed, valid gzip (or plain) body; `Sforce-NumberOfRecords` unchanged.
    public func cutAfterDelimiter(count: Int = 1) { state.withLock { $0.cutAfterDelimiter = count } }

    /// The next `jobs` jobs whose results are read get a result chain that ends one page early: the second-to-last
    /// page says `Sforce-Locator: null` and `resultPages` lists one link fewer, while `numberRecordsProcessed` still
    /// counts every record. A single-page job's only page lacks its last record (`Sforce-NumberOfRecords` matching
    /// what is sent). A job is bound on its first `results` or `resultPages` request after arming and stays short
    /// for all its later requests (until ``clear()``).
    public func shortTotal(jobs: Int = 1) { state.withLock { $0.shortTotal.armed = jobs } }

    /// The next `count` results pages send their own locator as `Sforce-Locator` (a naive client fetches the same
    /// page forever), and a `resultPages` response counted the same way sends its own URL as `nextRecordsUrl`.
    public func loopLocator(count: Int = 1) { state.withLock { $0.loopLocators = count } }

    /// The next `count` `resultPages` responses carry `link` verbatim (an absolute URL on another host, a relative
    /// `@otherhost/…`, a `..` path, …) instead of their result links and/or next-page URL, as a hostile or broken
    /// server might. A client must refuse to follow it: it would send the access token there.
    public func hostileResultLinks(_ link: String, count: Int = 1, placement: HostileLinkPlacement = .both) {
        state.withLock { $0.hostileLinks = (link, count, placement) }
    }

    /// The next `count` results pages send `value` verbatim as `Sforce-Locator` (characters that would add query
    /// parameters or end the query if pasted into the next URL unencoded).
    public func hostileLocator(_ value: String, count: Int = 1) {
        state.withLock { $0.hostileLocator = (value, count) }
    }

    /// The next `count` successful token responses name `url` as `instance_url` (a host that is not the org's).
    public func hostileInstanceURL(_ url: String, count: Int = 1) {
        state.withLock { $0.hostileInstanceURL = (url, count) }
    }

    /// Pads every describe response with a top-level `emulatorPadding` string of `bytes` characters (describes of
    /// large objects run to megabytes); `nil` stops padding.
    public func padDescribe(bytes: Int?) { state.withLock { $0.describePadding = bytes } }

    /// The next `count` created jobs end `Failed` instead of `JobComplete`, with `errorMessage` when given.
    public func failJobs(count: Int = 1, errorMessage: String? = nil) {
        state.withLock { $0.jobFailures = (count, errorMessage) }
    }

    /// The next `count` API requests get 403 `REQUEST_LIMIT_EXCEEDED`.
    public func exceedRequestLimit(count: Int = 1) { state.withLock { $0.requestLimit = count } }

    /// After `afterAPICalls` more authenticated API calls, every issued access token expires (401
    /// `INVALID_SESSION_ID`); tokens issued afterwards work.
    public func expireTokens(afterAPICalls: Int) { state.withLock { $0.expireAfterCalls = afterAPICalls } }

    /// The next `jobs` jobs stay `InProgress` for `polls` status requests beyond their normal processing time.
    public func slowInProgress(polls: Int, jobs: Int = 1) { state.withLock { $0.slowPolls = (jobs, polls) } }

    /// Caps every connection's response bandwidth (`nil` = configured default).
    public func setBandwidth(bytesPerSecond: Int?) { state.withLock { $0.bytesPerSecond = bytesPerSecond } }

    /// Delays every response (`nil` = configured default).
    public func setLatency(_ latency: Duration?) { state.withLock { $0.latency = latency } }

    /// Delays every results page of the jobs whose SOQL `matches` accepts by `delay` (not counted: until
    /// ``clear()``), so a test can make one of several concurrent readers slow, e.g. one shard's range; `nil`
    /// disarms it.
    public func slowResults(by delay: Duration?, where matches: @escaping @Sendable (String) -> Bool = { _ in true }) {
        state.withLock { $0.slowResults = delay.map { ($0, matches) } }
    }

    /// Disarms every fault.
    public func clear() { state.withLock { $0 = State() } }
}

extension FaultInjector {
    /// One occasion of a counted fault: `value` of the state while the count at `count` is above zero (it is then
    /// decremented), else `nil`.
    private func take<T>(_ count: WritableKeyPath<State, Int>, _ value: (State) -> T) -> T? {
        state.withLock { state in
            guard state[keyPath: count] > 0 else { return nil }
            state[keyPath: count] -= 1
            return value(state)
        }
    }

    func takeHTTPFault(path: String) -> (status: Int, body: String)? {
        state.withLock { state in
            for k in state.httpFaults.indices {
                if let needle = state.httpFaults[k].pathContains, !path.contains(needle) { continue }
                if state.httpFaults[k].skip > 0 {
                    state.httpFaults[k].skip -= 1
                    continue
                }
                let fault = state.httpFaults[k]
                state.httpFaults[k].remaining -= 1
                if state.httpFaults[k].remaining <= 0 { state.httpFaults.remove(at: k) }
                return (fault.status, fault.body)
            }
            return nil
        }
    }

    func takeBodyFault(gzip: Bool) -> BodyFault? {
        take(\.resets.count) { .reset(afterBytes: $0.resets.afterBytes) }
            ?? (gzip ? take(\.truncations) { _ in .truncate } : nil)
            ?? (gzip ? take(\.emptyGzipPages) { _ in .emptyGzip } : nil)
            ?? take(\.cutAfterDelimiter) { _ in .cutAfterDelimiter }
    }

    /// Whether `jobId`'s chain is short: bound already, or bound now by an armed ``shortTotal(jobs:)``.
    func isShortTotal(jobId: String) -> Bool {
        state.withLock { state in
            if state.shortTotal.jobs.contains(jobId) { return true }
            guard state.shortTotal.armed > 0 else { return false }
            state.shortTotal.armed -= 1
            state.shortTotal.jobs.insert(jobId)
            return true
        }
    }

    func takeLoopLocator() -> Bool { take(\.loopLocators) { _ in true } ?? false }
    func takeHostileLinks() -> (link: String, placement: HostileLinkPlacement)? {
        take(\.hostileLinks.count) { ($0.hostileLinks.link, $0.hostileLinks.placement) }
    }
    func takeHostileInstanceURL() -> String? { take(\.hostileInstanceURL.count) { $0.hostileInstanceURL.url } }
    var describePadding: Int? { state.withLock { $0.describePadding } }
    func takeHostileLocator() -> String? { take(\.hostileLocator.count) { $0.hostileLocator.value } }
    func takeJobFailure() -> String?? { take(\.jobFailures.count) { $0.jobFailures.message } }
    func takeRequestLimit() -> Bool { take(\.requestLimit) { _ in true } ?? false }
    func takeSlowPolls() -> Int { take(\.slowPolls.jobs) { $0.slowPolls.polls } ?? 0 }

    /// Counts an authenticated call; true when tokens must expire now.
    func countCallForExpiry() -> Bool {
        state.withLock { state in
            guard let left = state.expireAfterCalls else { return false }
            state.expireAfterCalls = left <= 0 ? nil : left - 1
            return left <= 0
        }
    }

    /// How long a results page of a job with `soql` waits (``slowResults(by:where:)``); nil when not at all.
    func resultsDelay(forQuery soql: String) -> Duration? {
        guard let slow = state.withLock({ $0.slowResults }), slow.matches(soql) else { return nil }
        return slow.delay
    }

    func pacing(default configuration: EmulatorConfiguration) -> (bytesPerSecond: Int?, latency: Duration?) {
        state.withLock { ($0.bytesPerSecond ?? configuration.perConnectionBytesPerSecond, $0.latency ?? configuration.latency) }
    }
}
