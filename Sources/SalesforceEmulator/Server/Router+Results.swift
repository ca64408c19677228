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
        let end = min(results.totalRows, offset + pageSize)
        let acceptEncoding = (request.header("Accept-Encoding") ?? "").lowercased()
        let gzip = acceptEncoding.contains("gzip") && !acceptEncoding.contains("gzip;q=0")
        var headers: [(String, String)] = [
            ("Content-Type", "text/csv; charset=UTF-8"),
            ("Sforce-NumberOfRecords", String(end - offset)),
            ("Sforce-Locator", end < results.totalRows ? Locator.encode(end) : "null"),
        ]
        if gzip { headers.append(("Content-Encoding", "gzip")) }
        let bodyFault = faults.takeBodyFault(gzip: gzip)
        let (start, size, responseHeaders) = (offset, pageSize, headers)
        let emptyBody = configuration.headerOnlyForEmptyResults ? results.header : []
        return threadPool.runIfActive(eventLoop: eventLoop) { () -> EmulatorResponse in
            var body: [UInt8]
            if results.totalRows == 0 || start >= results.totalRows {
                body = gzip && !emptyBody.isEmpty ? try Gzip.compress(emptyBody) : emptyBody
            } else if size == results.pageSize && start % size == 0 {
                let stored = results.pages[start / size].gzip
                body = gzip ? stored : try Gzip.decompress(stored)
            } else {
                let raw = try ResultMaterializer.slice(results, offset: start, count: size)
                body = gzip ? try Gzip.compress(raw) : raw
            }
            if bodyFault == .truncate { body.removeLast(max(1, body.count * 2 / 5)) }
            return EmulatorResponse(status: 200, headers: responseHeaders, body: body, bodyFault: bodyFault)
        }
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
        var offset = request.query["locator"].flatMap(Locator.decode) ?? 0
        var links: [JSONValue] = []
        let base = "/services/data/v\(version)/jobs/query/\(id)"
        while offset < results.totalRows && links.count < 5 {
            links.append(.object([
                ("resultLink", .string("\(base)/results?locator=\(Locator.encode(offset))&maxRecords=\(pageSize)")),
            ]))
            offset += pageSize
        }
        let done = offset >= results.totalRows
        var next = "\(base)/resultPages?locator=\(Locator.encode(offset))"
        if pageSize != results.pageSize { next += "&maxRecords=\(pageSize)" }
        return .json(
            200,
            .object([
                ("resultPages", .array(links)), ("nextRecordsUrl", done ? .null : .string(next)), ("done", .bool(done)),
            ]))
    }
}
