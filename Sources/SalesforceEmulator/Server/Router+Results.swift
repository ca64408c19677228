import Foundation
import NIOCore

extension Router {
    /// `GET /jobs/query/{id}/results[?locator=…&maxRecords=…]`.
    func results(_ id: String, _ request: EmulatorRequest, version: String, on eventLoop: any EventLoop)
        -> EventLoopFuture<EmulatorResponse>
    {
        let results: JobResults
        switch completedResults(id, version: version) {
        case .failure(let response): return eventLoop.makeSucceededFuture(response)
        case .success(let value): results = value
        }
        let offset: Int, pageSize: Int
        switch requestedPage(request, job: id, totalRows: results.totalRows) {
        case .refused(let response): return eventLoop.makeSucceededFuture(response)
        case .page(let from, let size): (offset, pageSize) = (from, size)
        }
        // A short chain (fault) pretends the job has fewer rows than numberRecordsProcessed says.
        let total = faults.isShortTotal(jobId: id) ? Self.shortTotal(results.totalRows, pageSize: pageSize) : results.totalRows
        let transport = transportChoice(request)
        let gzip = transport.gzip
        let loop = faults.takeLoopLocator()
        let hostileLocator = faults.takeHostileLocator()
        let killed = takePageKill(job: id)
        let bodyFault = killed ? .reset(afterBytes: 0) : faults.takeBodyFault(gzip: gzip)
        let emptyBody = configuration.headerOnlyForEmptyResults ? results.header : []
        let maxBytes = transportSettings.withLock { $0.maxPageBytes }
        let delay = liveJob(id) { $0.soql }.flatMap { faults.resultsDelay(forQuery: $0) }
        // Pages are written per request (never stored), on the thread pool: a job over millions of records keeps
        // no rows in memory.
        let render = { [self, offset, pageSize] () -> EmulatorResponse in
            let page = try pageBody(
                results, offset: offset, pageSize: pageSize, maxBytes: maxBytes, total: total, gzip: gzip,
                emptyBody: emptyBody)
            var body = page.body
            let end = page.end
            var headers: [(String, String)] = [
                ("Content-Type", "text/csv; charset=UTF-8"),
                ("Sforce-NumberOfRecords", String(end - offset)),
                ("Sforce-Locator",
                 hostileLocator ?? (loop ? Locator.encode(offset, job: id) : end < total ? Locator.encode(end, job: id) : "null")),
            ]
            if gzip { headers.append(("Content-Encoding", "gzip")) }
            try Self.damage(&body, bodyFault, gzip: gzip, delimiter: results.delimiter)
            if bodyFault == nil { pagesServed.withLock { $0[id, default: 0] += 1 } }
            return EmulatorResponse(
                status: 200, headers: headers, body: body, bodyFault: bodyFault, chunked: transport.chunked)
        }
        guard let delay else { return threadPool.runIfActive(eventLoop: eventLoop, render) }
        return eventLoop.scheduleTask(in: .nanoseconds(Int64(delay / .nanoseconds(1)))) {}.futureResult.flatMap { [self] in
            threadPool.runIfActive(eventLoop: eventLoop, render)
        }
    }

    /// The body of the page at `offset` as sent (gzipped with `gzip`) and its end: the cached body where another
    /// job with the same query on the same data rendered it (``ResultCache``), else rendered now.
    private func pageBody(
        _ results: JobResults, offset: Int, pageSize: Int, maxBytes: Int, total: Int, gzip: Bool, emptyBody: [UInt8]
    ) throws -> (body: [UInt8], end: Int) {
        if offset >= total { return (gzip && !emptyBody.isEmpty ? try Gzip.compress(emptyBody) : emptyBody, offset) }
        let key = results.cacheKey(offset: offset, maxRecords: pageSize, maxBytes: maxBytes, total: total, gzip: gzip)
        if let key, let cached = resultCache?.body(key) { return (cached.body, cached.end) }
        let page = results.page(from: offset, maxRecords: pageSize, maxBytes: maxBytes, total: total)
        usage.withLock { $0.resultBytes += page.csv.count }
        let body = gzip ? try Gzip.compress(page.csv) : page.csv
        if let key { resultCache?.storeBody(body, end: page.end, key) }
        return (body, page.end)
    }

    private enum PageRequest {
        case page(offset: Int, size: Int)
        case refused(EmulatorResponse)
    }

    /// The page a results request asks for: its offset (`locator`) and size (`maxRecords`), or the 400 to answer.
    private func requestedPage(_ request: EmulatorRequest, job id: String, totalRows: Int) -> PageRequest {
        var offset = 0
        if let locator = request.query["locator"], !locator.isEmpty {
            // Locators are bound to their job: one from another job is rejected, not reinterpreted.
            guard let decoded = Locator.decode(locator, job: id), decoded <= totalRows else {
                return .refused(.error(400, "INVALIDLOCATOR", "Invalid locator: \(locator)"))
            }
            offset = decoded
        }
        var pageSize = configuration.defaultPageSize
        if let text = request.query["maxRecords"] {
            guard let n = Int(text), n > 0 else {
                return .refused(.error(400, "INVALIDMAXRECORDS", "maxRecords must be a positive integer: \(text)"))
            }
            pageSize = n
        }
        return .page(offset: offset, size: pageSize)
    }

    /// Damages a rendered page body as a fault asks; `.reset` is left to the transport.
    private static func damage(
        _ body: inout [UInt8], _ fault: FaultInjector.BodyFault?, gzip: Bool, delimiter: UInt8
    ) throws {
        switch fault {
        case .truncate: body.removeLast(max(1, body.count * 2 / 5))
        case .emptyGzip: body = Array(body.prefix(10))
        case .cutAfterDelimiter:
            let csv = gzip ? try Gzip.decompress(body) : body
            let cut = cutAfterLastDelimiter(csv, delimiter: delimiter)
            body = gzip ? try Gzip.compress(cut) : cut
        case .reset, nil: break
        }
    }

    /// Rows a short chain (``FaultInjector/shortTotal(jobs:)``) serves: all pages but the last, or one row less for
    /// a single page.
    static func shortTotal(_ total: Int, pageSize: Int) -> Int {
        let pages = (total + pageSize - 1) / pageSize
        return pages > 1 ? (pages - 1) * pageSize : max(total - 1, 0)
    }

    /// `csv` up to and including the last delimiter outside quotes (the one before the last record's last field).
    static func cutAfterLastDelimiter(_ csv: [UInt8], delimiter: UInt8) -> [UInt8] {
        var quoted = false
        var last: Int?
        for (k, byte) in csv.enumerated() {
            if byte == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if byte == delimiter && !quoted {
                last = k
            }
        }
        guard let last else { return Array(csv.dropLast()) }
        return Array(csv[...last])
    }

    enum ResultsLookup {
        case success(JobResults)
        case failure(EmulatorResponse)
    }

    private func completedResults(_ id: String, version: String) -> ResultsLookup {
        let found = liveJob(id) { job -> ResultsLookup in
            job.advance(now: .now, nowMillis: nowMillis(), isPoll: false)
            if let failure = resultsPrecondition(job, version: version) { return .failure(failure) }
            return job.results.map { .success($0) } ?? .failure(.error(500, "UNKNOWN_EXCEPTION", "Results are missing"))
        }
        return found ?? .failure(.error(404, "NOT_FOUND", "The requested resource does not exist"))
    }

    private func resultsPrecondition(_ job: QueryJob, version: String) -> EmulatorResponse? {
        guard job.apiVersion == version else {
            return .error(
                409, "INVALIDVERSION",
                "The job was created with API version \(job.apiVersion); request its results with the same version")
        }
        guard job.state == .jobComplete else {
            let status = job.state == .jobComplete ? "JOB_COMPLETE" : {
                switch job.state {
                case .uploadComplete: "UPLOAD_COMPLETE"
                case .inProgress: "IN_PROGRESS"
                case .failed: "FAILED"
                case .aborted: "ABORTED"
                case .jobComplete: "JOB_COMPLETE"
                }
            }()
            return .error(
                412, "JOB_NOT_COMPLETE",
                "can only download query results of successfully completed bulk job with status: JOB_COMPLETE. "
                    + "Current status: \(status)")
        }
        return nil
    }

    /// `GET /jobs/query/{id}/resultPages[?locator=…]`: up to 5 result links per response; the resource exists from
    /// API v58.0 on, so lower versions get the 404 of an unknown resource.
    func resultPages(_ id: String, _ request: EmulatorRequest, version: String) -> EmulatorResponse {
        guard (Double(version) ?? 0) >= 58 else {
            return .error(404, "NOT_FOUND", "The requested resource does not exist")
        }
        let results: JobResults
        switch completedResults(id, version: version) {
        case .failure(let response): return response
        case .success(let value): results = value
        }
        let pageSize = request.query["maxRecords"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? configuration.defaultPageSize
        let total = faults.isShortTotal(jobId: id) ? Self.shortTotal(results.totalRows, pageSize: pageSize) : results.totalRows
        var offset = 0
        if let locator = request.query["locator"], !locator.isEmpty {
            guard let decoded = Locator.decode(locator, job: id), decoded <= results.totalRows else {
                return .error(400, "INVALIDLOCATOR", "Invalid locator: \(locator)")
            }
            offset = decoded
        }
        var links: [JSONValue] = []
        let base = "/services/data/v\(version)/jobs/query/\(id)"
        while offset < total && links.count < 5 {
            links.append(.object([
                ("resultLink", .string("\(base)/results?locator=\(Locator.encode(offset, job: id))&maxRecords=\(pageSize)")),
            ]))
            let maxBytes = transportSettings.withLock { $0.maxPageBytes }
            let key = results.cacheKey(offset: offset, maxRecords: pageSize, maxBytes: maxBytes, total: total)
            if let key, let end = resultCache?.end(key) {
                offset = end
            } else {
                offset = results.pageEnd(from: offset, maxRecords: pageSize, maxBytes: maxBytes, total: total)
                if let key { resultCache?.storeEnd(offset, key) }
            }
        }
        if let hostile = faults.takeHostileLinks() {
            if hostile.placement != .nextRecordsUrl {
                links = links.map { _ in .object([("resultLink", .string(hostile.link))]) }
            }
            let next: JSONValue = hostile.placement == .pageLinks ? .null : .string(hostile.link)
            return .json(
                200,
                .object([
                    ("resultPages", .array(links)), ("nextRecordsUrl", next),
                    ("done", .bool(hostile.placement == .pageLinks)),
                ]))
        }
        if faults.takeLoopLocator() {
            let own = request.path + (request.rawQuery.isEmpty ? "" : "?" + request.rawQuery)
            return .json(
                200, .object([("resultPages", .array(links)), ("nextRecordsUrl", .string(own)), ("done", .bool(false))]))
        }
        let done = offset >= total
        var next = "\(base)/resultPages?locator=\(Locator.encode(offset, job: id))"
        if pageSize != configuration.defaultPageSize { next += "&maxRecords=\(pageSize)" }
        return .json(
            200,
            .object([
                ("resultPages", .array(links)), ("nextRecordsUrl", done ? .null : .string(next)), ("done", .bool(done)),
            ]))
    }
}

extension Router {
    /// How one response travels: gzip only when the client accepts it (RFC 9110 `Accept-Encoding`, q-values
    /// honoured) and this response is not one of those Salesforce sends uncompressed anyway ("the REST framework
    /// sometimes doesn't send back the response in a compressed format"); chunked framing for some responses.
    func transportChoice(_ request: EmulatorRequest) -> (gzip: Bool, chunked: Bool) {
        let accepts = AcceptEncoding.acceptsGzip(request.header("Accept-Encoding"))
        let n = transportCounter.withLock { counter -> UInt64 in
            counter &+= 1
            return counter
        }
        // A deterministic draw per response (seeded), so a failing run can be replayed.
        func draw(_ salt: UInt64) -> Double {
            var rng = SplitMix(state: configuration.seed &+ n &* 0x9E37_79B9 &+ salt)
            return Double(rng.next() >> 11) / Double(1 << 53)
        }
        let settings = transportSettings.withLock { $0 }
        let skipGzip = settings.uncompressedProbability > 0 && draw(1) < settings.uncompressedProbability
        let chunked = settings.chunkedProbability > 0 && draw(2) < settings.chunkedProbability
        return (configuration.compressResults && accepts && !skipGzip, chunked)
    }
}

/// `Accept-Encoding` per RFC 9110 §12.5.3: a comma-separated list of codings with optional weights; a coding with
/// `q=0` is "not acceptable", whitespace around `;` and `=` is allowed, names are case-insensitive.
enum AcceptEncoding {
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        for element in header.split(separator: ",") {
            let parts = element.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first, coding == "gzip" || coding == "x-gzip" else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if kv.count == 2, kv[0] == "q" { q = Double(kv[1]) ?? 0 }
            }
            return q > 0
        }
        return false
    }
}

/// Page size and transport behaviour, from the configuration and changeable at run time through
/// `POST /__emulator/transport` (so a CI that runs the command-line emulator can reach them too).
struct TransportSettings: Sendable {
    var maxPageBytes: Int
    var uncompressedProbability: Double
    var chunkedProbability: Double

    init(_ configuration: EmulatorConfiguration) {
        maxPageBytes = configuration.maxPageBytes
        uncompressedProbability = configuration.uncompressedProbability
        chunkedProbability = configuration.chunkedProbability
    }
}
