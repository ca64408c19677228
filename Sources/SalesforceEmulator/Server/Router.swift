import NIOCore
import NIOPosix
import Synchronization

/// Maps requests to endpoint handlers and holds the emulator's state. Called on event loops; anything slow goes
/// to `threadPool`.
final class Router: Sendable {
    let configuration: EmulatorConfiguration
    let threadPool: NIOThreadPool
    let org: Org
    let faults = FaultInjector()
    let tokens = TokenStore()
    let jobs = JobStore()
    let cursors = CursorStore()
    let requestLog = Mutex<[RecordedRequest]>([])
    let usage = Mutex(Usage())
    let baseURL = Mutex("")
    let clock = EmulatorClock()
    let policy: Mutex<OrgPolicy>
    /// Results pages served whole, per job, so resume tests can count what a rerun downloads again.
    let pagesServed = Mutex<[String: Int]>([:])
    /// Armed ``killConnection(afterPages:count:)``: the page count after which a results request is cut, and how
    /// many more times.
    let pageKill = Mutex<(afterPages: Int, remaining: Int)>((0, 0))
    /// Counts responses whose transport (gzip, chunked) is drawn at random.
    let transportCounter = Mutex<UInt64>(0)
    let transportSettings: Mutex<TransportSettings>
    /// Rendered pages shared by jobs over the same data (``EmulatorConfiguration/resultCacheBytes``); nil when off.
    let resultCache: ResultCache?
    /// TCP connections accepted so far (admin ones included), so tests can see whether a client reuses them.
    let acceptedConnections = Atomic<Int>(0)

    struct Usage: Sendable {
        var apiRequests = 0
        var queryJobs = 0
        /// Uncompressed CSV bytes served, for `DailyBulkV2QueryFileStorageMB`.
        var resultBytes = 0
        var resultMB: Int { resultBytes / 1_048_576 }
    }

    init(configuration: EmulatorConfiguration, threadPool: NIOThreadPool) {
        self.configuration = configuration
        self.threadPool = threadPool
        self.org = Org(configuration: configuration, clock: clock)
        self.transportSettings = Mutex(TransportSettings(configuration))
        self.policy = Mutex(OrgPolicy(configuration))
        self.resultCache = configuration.resultCacheBytes > 0 ? ResultCache(capacity: configuration.resultCacheBytes) : nil
    }

    /// Versions served in `/services/data/vXX.X/…`: 47.0 through the configured latest.
    var versions: [String] {
        let latest = Int(Double(configuration.latestAPIVersion) ?? 62)
        return (47...max(47, latest)).map { "\($0).0" }
    }

    /// Counts a newly accepted connection and returns its number (1, 2, …), which tags its requests in the log.
    func acceptConnection() -> Int {
        acceptedConnections.add(1, ordering: .relaxed).newValue
    }

    func route(_ request: EmulatorRequest, on eventLoop: any EventLoop) -> EventLoopFuture<EmulatorResponse> {
        if request.path.hasPrefix("/__emulator/") {
            return eventLoop.makeSucceededFuture(admin(request))
        }
        let logIndex = requestLog.withLock { log in
            log.append(
                RecordedRequest(
                    method: request.method, path: request.path, query: request.rawQuery,
                    acceptEncoding: request.header("Accept-Encoding"), connection: request.connection))
            return log.count - 1
        }
        var future = dispatch(request, on: eventLoop)
        // `X-PrettyPrint: 1` asks REST and OAuth for the pretty form Bulk always uses (simple-salesforce sends it).
        if request.header("X-PrettyPrint") == "1" { future = future.map { $0.prettyPrinted() } }
        future.whenSuccess { [self] response in
            requestLog.withLock { log in if logIndex < log.count { log[logIndex].status = response.status } }
        }
        return future
    }

    func noteSOQL(_ soql: String, for request: EmulatorRequest) {
        requestLog.withLock { log in
            if let k = log.lastIndex(where: { $0.path == request.path && $0.soql == nil && $0.method == "POST" }) {
                log[k].soql = soql
            }
        }
    }

    private func dispatch(_ request: EmulatorRequest, on eventLoop: any EventLoop) -> EventLoopFuture<EmulatorResponse> {
        if let fault = faults.takeHTTPFault(path: request.path) {
            return eventLoop.makeSucceededFuture(
                EmulatorResponse(
                    status: fault.status, headers: [("Content-Type", "application/json;charset=UTF-8")],
                    body: Array(fault.body.utf8)))
        }
        let path = request.path
        if path == "/services/oauth2/token" {
            guard request.method == "POST" else { return eventLoop.makeSucceededFuture(.error(405, "METHOD_NOT_ALLOWED", "HTTP Method '\(request.method)' not allowed. Allowed are POST")) }
            return eventLoop.makeSucceededFuture(token(request))
        }
        if path == "/services/oauth2/userinfo" || path.hasPrefix("/id/") {
            return eventLoop.makeSucceededFuture(identity(request, userinfo: path.hasPrefix("/services")))
        }
        if path == "/services/data" || path == "/services/data/" {
            return eventLoop.makeSucceededFuture(versionList())
        }
        let segments = path.split(separator: "/").map(String.init)
        guard segments.count >= 3, segments[0] == "services", segments[1] == "data", segments[2].hasPrefix("v") else {
            return eventLoop.makeSucceededFuture(
                .error(404, "NOT_FOUND", "The requested resource does not exist"))
        }
        let version = String(segments[2].dropFirst())
        guard versions.contains(version) else {
            return eventLoop.makeSucceededFuture(.error(404, "NOT_FOUND", "The requested resource does not exist"))
        }
        if let denied = authorize(request) { return eventLoop.makeSucceededFuture(denied) }
        let rest = Array(segments.dropFirst(3))
        let future: EventLoopFuture<EmulatorResponse>
        switch (request.method, rest.first) {
        case ("GET", nil): future = eventLoop.makeSucceededFuture(resourceList(version: version))
        case ("GET", "limits") where rest.count == 1: future = eventLoop.makeSucceededFuture(limits())
        case ("GET", "limits") where rest.count == 2 && rest[1] == "recordCount":
            future = eventLoop.makeSucceededFuture(recordCount(request))
        case ("GET", "query") where rest.count <= 2, ("GET", "queryAll") where rest.count <= 2:
            future = eventLoop.makeSucceededFuture(
                restQuery(request, rest: rest, version: version, all: rest[0] == "queryAll"))
        case ("GET", "sobjects"): future = eventLoop.makeSucceededFuture(sobjects(Array(rest.dropFirst()), version: version, request: request))
        case (_, "jobs") where rest.count >= 2 && rest[1] == "query":
            future = jobsQuery(request, version: version, rest: Array(rest.dropFirst(2)), on: eventLoop)
                .map { $0.bulkStyled() }
        default:
            future = eventLoop.makeSucceededFuture(.error(404, "NOT_FOUND", "The requested resource does not exist"))
        }
        return future.map { [self] response in
            var response = response
            response.headers.append(("Sforce-Limit-Info", "api-usage=\(usage.withLock { $0.apiRequests })/\(policy.withLock { $0.dailyApiRequests })"))
            return response
        }
    }

    /// Checks the bearer token, limits and token-expiry fault; counts the call. Returns a response when denied.
    private func authorize(_ request: EmulatorRequest) -> EmulatorResponse? {
        let header = request.header("Authorization") ?? ""
        let token: String
        if header.hasPrefix("Bearer ") {
            token = String(header.dropFirst(7))
        } else if header.hasPrefix("OAuth ") {
            token = String(header.dropFirst(6))
        } else {
            token = ""
        }
        if faults.countCallForExpiry() { tokens.revokeAll() }
        guard tokens.isValid(token) else {
            return .error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        }
        let allowance = policy.withLock { $0.dailyApiRequests }
        let overLimit = usage.withLock { usage in
            guard usage.apiRequests < allowance else { return true }
            usage.apiRequests += 1
            return false
        }
        if overLimit || faults.takeRequestLimit() {
            return .error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        }
        return nil
    }
}
