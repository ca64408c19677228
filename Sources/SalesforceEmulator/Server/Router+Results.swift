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
        var offset = 0
        if let locator = request.query["locator"], !locator.isEmpty {
            guard let decoded = Locator.decode(locator), decoded <= results.totalRows else {
                return eventLoop.makeSucceededFuture(.error(400, "INVALIDLOCATOR", "Invalid locator: \(locator)"))
            }
            offset = decoded
        }
        var pageSize = configuration.defaultPageSize
        if let text = request.query["maxRecords"] {
            guard let n = Int(text), n > 0 else {
                return eventLoop.makeSucceededFuture(
                    .error(400, "INVALIDMAXRECORDS", "maxRecords must be a positive integer: \(text)"))
            }
            pageSize = n
        }
        // A short chain (fault) pretends the job has fewer rows than numberRecordsProcessed says.
        let total = faults.isShortTotal(jobId: id) ? Self.shortTotal(results.totalRows, pageSize: pageSize) : results.totalRows
        let end = min(total, max(offset, offset + pageSize))
        let count = max(0, end - offset)
        let acceptEncoding = (request.header("Accept-Encoding") ?? "").lowercased()
        let gzip = configuration.compressResults && acceptEncoding.contains("gzip") && !acceptEncoding.contains("gzip;q=0")
        let loop = faults.takeLoopLocator()
        var headers: [(String, String)] = [
            ("Content-Type", "text/csv; charset=UTF-8"),
            ("Sforce-NumberOfRecords", String(count)),
            ("Sforce-Locator", faults.takeHostileLocator() ?? (loop ? Locator.encode(offset) : end < total ? Locator.encode(end) : "null")),
        ]
        if gzip { headers.append(("Content-Encoding", "gzip")) }
        let bodyFault = faults.takeBodyFault(gzip: gzip)
        let (start, responseHeaders) = (offset, headers)
        let emptyBody = configuration.headerOnlyForEmptyResults ? results.header : []
        return threadPool.runIfActive(eventLoop: eventLoop) { () -> EmulatorResponse in
            var body: [UInt8]
            if count == 0 {
                body = gzip && !emptyBody.isEmpty ? try Gzip.compress(emptyBody) : emptyBody
            } else if start % results.pageSize == 0 && results.pages[start / results.pageSize].rows == count {
                let stored = results.pages[start / results.pageSize].gzip
                body = gzip ? stored : try Gzip.decompress(stored)
            } else {
                let raw = try ResultMaterializer.slice(results, offset: start, count: count)
                body = gzip ? try Gzip.compress(raw) : raw
            }
            switch bodyFault {
            case .truncate: body.removeLast(max(1, body.count * 2 / 5))
            case .emptyGzip: body = Array(body.prefix(10))
            case .cutAfterDelimiter:
                let csv = gzip ? try Gzip.decompress(body) : body
                let cut = Self.cutAfterLastDelimiter(csv, delimiter: results.delimiter)
                body = gzip ? try Gzip.compress(cut) : cut
            case .reset, nil: break
            }
            return EmulatorResponse(status: 200, headers: responseHeaders, body: body, bodyFault: bodyFault)
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
        let found = jobs.update(id) { job -> ResultsLookup in
            job.advance(now: .now, nowMillis: Self.nowMillis(), isPoll: false)
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

    /// `GET /jobs/query/{id}/resultPages[?locator=…]`: up to 5 result links per response.
    func resultPages(_ id: String, _ request: EmulatorRequest, version: String) -> EmulatorResponse {
        let results: JobResults
        switch completedResults(id, version: version) {
        case .failure(let response): return response
        case .success(let value): results = value
        }
        let pageSize = request.query["maxRecords"].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } ?? results.pageSize
        let total = faults.isShortTotal(jobId: id) ? Self.shortTotal(results.totalRows, pageSize: pageSize) : results.totalRows
        var offset = request.query["locator"].flatMap(Locator.decode) ?? 0
        var links: [JSONValue] = []
        let base = "/services/data/v\(version)/jobs/query/\(id)"
        while offset < total && links.count < 5 {
            links.append(.object([
                ("resultLink", .string("\(base)/results?locator=\(Locator.encode(offset))&maxRecords=\(pageSize)")),
            ]))
            offset += pageSize
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
        var next = "\(base)/resultPages?locator=\(Locator.encode(offset))"
        if pageSize != results.pageSize { next += "&maxRecords=\(pageSize)" }
        return .json(
            200,
            .object([
                ("resultPages", .array(links)), ("nextRecordsUrl", done ? .null : .string(next)), ("done", .bool(done)),
            ]))
    }
}
