import Foundation
import NIOCore

extension Router {
    func jobsQuery(_ request: EmulatorRequest, version: String, rest: [String], on eventLoop: any EventLoop)
        -> EventLoopFuture<EmulatorResponse>
    {
        let notFound = EmulatorResponse.error(404, "NOT_FOUND", "The requested resource does not exist")
        switch (request.method, rest.count) {
        case ("POST", 0): return eventLoop.makeSucceededFuture(createJob(request, version: version))
        case ("GET", 0): return eventLoop.makeSucceededFuture(listJobs(request, version: version))
        case ("GET", 1): return eventLoop.makeSucceededFuture(jobStatus(rest[0]) ?? notFound)
        case ("PATCH", 1): return eventLoop.makeSucceededFuture(abortJob(rest[0], request) ?? notFound)
        case ("DELETE", 1): return eventLoop.makeSucceededFuture(deleteJob(rest[0]) ?? notFound)
        case ("GET", 2) where rest[1] == "results":
            return results(rest[0], request, version: version, on: eventLoop)
        case ("GET", 2) where rest[1] == "resultPages":
            // Finding page boundaries means writing the pages: off the event loop.
            return threadPool.runIfActive(eventLoop: eventLoop) { [self] in resultPages(rest[0], request, version: version) }
        default:
            return eventLoop.makeSucceededFuture(notFound)
        }
    }

    private func createJob(_ request: EmulatorRequest, version: String) -> EmulatorResponse {
        guard let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            return .error(400, "JSON_PARSER_ERROR", "Unexpected character: the request body is not a JSON object")
        }
        let operation = body["operation"] as? String ?? ""
        guard operation == "query" || operation == "queryAll" else {
            return .error(400, "INVALIDJOB", "InvalidJob : Invalid operation: \(operation)")
        }
        guard let soql = body["query"] as? String else { return .error(400, "INVALIDJOB", "InvalidJob : query is required") }
        noteSOQL(soql, for: request)
        let contentType = body["contentType"] as? String ?? "CSV"
        let delimiter = body["columnDelimiter"] as? String ?? "COMMA"
        let lineEnding = body["lineEnding"] as? String ?? "LF"
        guard contentType == "CSV", CSVWriter.delimiters[delimiter] != nil, lineEnding == "LF" || lineEnding == "CRLF" else {
            return .error(400, "INVALIDJOB", "InvalidJob : Invalid contentType, columnDelimiter or lineEnding")
        }
        let (snapshot, dataVersion) = org.versionedSnapshot()
        let query: SOQLQuery
        let table: ObjectTable
        do {
            if let refused = refuseQuery(soql) { return refused }
            (query, table) = try SOQLParser.parse(soql, snapshot: snapshot, now: nowMillis())
        } catch {
            return .error(400, error.code, error.message)
        }
        if let refused = refuseBulkJob(soql, query: query, table: table) { return refused }
        let now = ContinuousClock.now
        let delay = configuration.jobProcessingDelay
        let job = QueryJob(
            id: jobs.nextId(), operation: operation, object: query.object, soql: soql, apiVersion: version,
            columnDelimiter: delimiter, lineEnding: lineEnding, createdMillis: nowMillis(),
            inProgressAt: now + delay / 2, completeAt: now + delay, plannedFailure: faults.takeJobFailure(soql: soql),
            slowPollsLeft: faults.takeSlowPolls())
        jobs.add(job)
        let writer = CSVWriter(columnDelimiter: delimiter, lineEnding: lineEnding)
        threadPool.submit { [self] state in
            guard case .active = state else { return }
            let selection = Selection(
                query: query, table: table, snapshot: snapshot, includeDeleted: operation == "queryAll")
            var results = ResultMaterializer.materialize(selection, writer: writer)
            if resultCache != nil, !ResultCache.dependsOnTheClock(soql) {
                results.cacheKey = "\(operation)|v\(version)|\(dataVersion)|\(delimiter)|\(lineEnding)|\(soql)"
            }
            jobs.update(job.id) { job in if job.state != .aborted { job.results = results } }
        }
        return .json(200, job.info(detailed: false))
    }

    func nowMillis() -> Int64 { clock.now() }

    /// Salesforce deletes jobs 7 days after they finish: their status, results and locators are gone (404).
    static let jobLifetimeMillis: Int64 = 7 * 86_400_000

    /// Applies `change` to a job that exists and has not expired; an expired job is removed first.
    func liveJob<T>(_ id: String, _ change: (inout QueryJob) -> T) -> T? {
        let now = nowMillis()
        let expired = jobs.update(id) { job -> Bool in
            job.advance(now: .now, nowMillis: now, isPoll: false)
            return job.state.isTerminal && now - (job.finishedMillis ?? job.createdMillis) >= Self.jobLifetimeMillis
        }
        guard let expired else { return nil }
        if expired {
            jobs.remove(id)
            return nil
        }
        return jobs.update(id, change)
    }

    private func jobStatus(_ id: String) -> EmulatorResponse? {
        liveJob(id) { job in
            job.advance(now: .now, nowMillis: nowMillis(), isPoll: true)
            return EmulatorResponse.json(200, job.info(detailed: true))
        }
    }

    private func abortJob(_ id: String, _ request: EmulatorRequest) -> EmulatorResponse? {
        let body = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any]
        guard body?["state"] as? String == "Aborted" else {
            return .error(400, "INVALIDJOBSTATE", "Invalid state: the only state a query job can be set to is Aborted")
        }
        return liveJob(id) { job in
            guard !job.state.isTerminal else {
                return EmulatorResponse.error(
                    400, "INVALIDJOBSTATE", "Aborting a job in state \(job.state.rawValue) is not allowed")
            }
            job.state = .aborted
            job.results = nil
            job.finishedMillis = nowMillis()
            return .json(200, job.info(detailed: false))
        }
    }

    private func deleteJob(_ id: String) -> EmulatorResponse? {
        let terminal = liveJob(id) { job in job.state.isTerminal }
        guard let terminal else { return nil }
        guard terminal else {
            return .error(
                400, "API_ERROR", "Error encountered when deleting the job because the job is not terminated")
        }
        jobs.remove(id)
        return EmulatorResponse(status: 204)
    }

    private func listJobs(_ request: EmulatorRequest, version: String) -> EmulatorResponse {
        let pageSize = 1000
        let now = nowMillis()
        var all = jobs.all().filter { job in
            var job = job
            job.advance(now: .now, nowMillis: now, isPoll: false)
            return !(job.state.isTerminal && now - (job.finishedMillis ?? job.createdMillis) >= Self.jobLifetimeMillis)
        }
        if let type = request.query["jobType"], type != "V2Query" { all = [] }
        if let mode = request.query["concurrencyMode"], mode != "Parallel" { all = [] }
        let offset = request.query["queryLocator"].flatMap(Locator.decode) ?? 0
        let end = min(all.count, offset + pageSize)
        let records = offset < end ? all[offset..<end].map { job -> JSONValue in
            var job = job
            job.advance(now: .now, nowMillis: nowMillis(), isPoll: false)
            return job.info(detailed: true)
        } : []
        let done = end >= all.count
        return .json(
            200,
            .object([
                ("done", .bool(done)), ("records", .array(records)),
                ("nextRecordsUrl", done ? .null : .string("/services/data/v\(version)/jobs/query?queryLocator=\(Locator.encode(end))")),
            ]))
    }
}

/// Result and list locators: base64url (no padding) text, like Salesforce's `MTAwMDA`. Result locators also name
/// their job, so a locator used on another job is rejected (400 `INVALIDLOCATOR`) as on Salesforce, where they are
/// opaque and bound to the job that issued them.
enum Locator {
    /// The locator of row `offset` of `job`'s results.
    static func encode(_ offset: Int, job: String) -> String {
        base64URL("\(offset):\(job)")
    }

    /// The row offset of a result locator, or `nil` when it is malformed or belongs to another job.
    static func decode(_ text: String, job: String) -> Int? {
        guard let bytes = JWTVerifier.base64URLDecode(text) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[1] == job, let offset = Int(parts[0]), offset >= 0 else { return nil }
        return offset
    }

    private static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    static func encode(_ offset: Int) -> String {
        Data(String(offset).utf8).base64EncodedString()
            .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }

    static func decode(_ text: String) -> Int? {
        JWTVerifier.base64URLDecode(text).flatMap { Int(String(decoding: $0, as: UTF8.self)) }.flatMap { $0 >= 0 ? $0 : nil }
    }
}
