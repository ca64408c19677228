import CivilTime
import Foundation

extension Router {
    /// The admin API under `/__emulator/` (documented on ``Emulator``).
    func admin(_ request: EmulatorRequest) -> EmulatorResponse {
        let segments = request.path.split(separator: "/").map(String.init).dropFirst()
        let body = (try? JSONSerialization.jsonObject(with: Data(request.body.isEmpty ? Array("{}".utf8) : request.body)))
            as? [String: Any] ?? [:]
        let ok = EmulatorResponse.json(200, .object([("ok", true)]))
        if let response = adminRecords(request.method, Array(segments), body: body) { return response }
        if let response = adminPubSub(request.method, Array(segments), body: body) { return response }
        switch (request.method, Array(segments)) {
        case ("POST", ["removeField"]):
            org.removeField(body["object"] as? String ?? "", field: body["field"] as? String ?? "")
            return ok
        case ("POST", ["randomRound"]):
            func int(_ key: String) -> Int { (body[key] as? NSNumber)?.intValue ?? 0 }
            org.randomRound(
                body["object"] as? String ?? "Contact", seed: (body["seed"] as? NSNumber)?.uint64Value ?? 1,
                inserts: int("inserts"), updates: int("updates"), softDeletes: int("softDeletes"),
                undeletes: int("undeletes"), hardDeletes: int("hardDeletes"))
            return ok
        case ("GET", let s) where s.count == 2 && s[0] == "truth":
            let fields = (request.query["fields"] ?? "Id").split(separator: ",").map(String.init)
            let rows = org.truth(
                s[1], fields: fields, includeDeleted: request.query["includeDeleted"] == "true",
                includeHidden: request.query["includeHidden"] != "false")
            return .json(200, .object([("rows", .array(rows.map { .array($0.map(JSONValue.optional)) }))]))
        case ("POST", ["clock"]):
            // Moves the emulator's clock (job expiry, delete horizon, date literals, new modstamps) forward.
            clock.advance(seconds: (body["advanceSeconds"] as? NSNumber)?.doubleValue ?? 0)
            return .json(200, .object([("now", .string(Timestamps.restDatetime(millis: clock.now())))]))
        case ("POST", ["transport"]):
            // Page byte cap and the share of uncompressed-anyway or chunked results responses, at run time.
            transportSettings.withLock { settings in
                if let n = body["maxPageBytes"] as? NSNumber { settings.maxPageBytes = max(1, n.intValue) }
                if let p = body["uncompressedProbability"] as? NSNumber { settings.uncompressedProbability = p.doubleValue }
                if let p = body["chunkedProbability"] as? NSNumber { settings.chunkedProbability = p.doubleValue }
            }
            return ok
        case ("POST", ["faults"]):
            return setFault(body) ? ok : .error(400, "INVALID_FAULT", "Unknown fault kind")
        case ("GET", ["requests"]):
            return requestLogResponse()
        case ("GET", ["connections"]):
            // Includes the connection this very request came on: a client comparing two readings over its own
            // fresh connections sees its admin calls too.
            return .json(200, .object([("accepted", .int(acceptedConnections.load(ordering: .relaxed)))]))
        case ("POST", ["reset"]):
            resetEverything()
            return ok
        default:
            return adminControl(request.method, Array(segments), body: body)
                ?? .error(404, "NOT_FOUND", "Unknown admin resource \(request.method) \(request.path)")
        }
    }

    /// `records/…`: insert, update, hide/unhide, delete/undelete/hard delete, set a formula's value; nil for any
    /// other path.
    private func adminRecords(_ method: String, _ s: [String], body: [String: Any]) -> EmulatorResponse? {
        let ok = EmulatorResponse.json(200, .object([("ok", true)]))
        switch (method, s.count) {
        case ("POST", 2) where s[0] == "records":
            let id = org.insert(s[1], fields: Self.fields(body["fields"]))
            return id.isEmpty ? .error(404, "NOT_FOUND", "Unknown object \(s[1])") : .json(200, .object([("id", .string(id))]))
        case ("PATCH", 3) where s[0] == "records":
            org.update(s[1], id: s[2], fields: Self.fields(body["fields"]))
            return ok
        case ("POST", 3) where s[0] == "records" && (s[2] == "hide" || s[2] == "unhide"):
            let ids = body["ids"] as? [String] ?? []
            if s[2] == "hide" { org.hide(s[1], ids: ids) } else { org.unhide(s[1], ids: ids) }
            return ok
        case ("POST", 4) where s[0] == "records":
            switch s[3] {
            case "delete": org.softDelete(s[1], id: s[2])
            case "undelete": org.undelete(s[1], id: s[2])
            case "hardDelete": org.hardDelete(s[1], id: s[2])
            case "calculated":
                org.setCalculated(s[1], id: s[2], field: body["field"] as? String ?? "", value: Self.text(body["value"]))
            default: return .error(404, "NOT_FOUND", "Unknown record action \(s[3])")
            }
            return ok
        default:
            return nil
        }
    }

    /// Every request served, with its SOQL, status and connection.
    private func requestLogResponse() -> EmulatorResponse {
        let log = requestLog.withLock { $0 }
        return .json(200, .array(log.map { r in
            .object([
                ("method", .string(r.method)), ("path", .string(r.path)), ("query", .string(r.query)),
                ("soql", .optional(r.soql)), ("status", r.status.map(JSONValue.int) ?? .null),
                ("connection", .int(r.connection)),
            ])
        }))
    }

    /// Back to the state at start: generated data, no jobs, tokens, faults, usage, policies or page counts, the
    /// clock and org Id of a fresh org.
    private func resetEverything() {
        org.reset(configuration: configuration)
        org.changes.reset()
        faults.clear()
        jobs.removeAll()
        cursors.removeAll()
        tokens.revokeAll()
        tokens.resetRefreshTokens()
        requestLog.withLock { $0.removeAll() }
        usage.withLock { $0 = Usage() }
        clock.reset()
        transportSettings.withLock { $0 = TransportSettings(configuration) }
        policy.withLock { $0 = OrgPolicy(configuration) }
        pagesServed.withLock { $0.removeAll() }
        killConnection(afterPages: 0, count: 0)
        tokens.resetOrgId()
    }

    private func setFault(_ body: [String: Any]) -> Bool {
        func int(_ key: String, _ fallback: Int) -> Int { (body[key] as? NSNumber)?.intValue ?? fallback }
        switch body["kind"] as? String {
        case "http":
            faults.failRequests(
                status: int("status", 500), count: int("count", 1), afterRequests: int("afterRequests", 0),
                pathContains: body["pathContains"] as? String, body: body["body"] as? String)
        case "reset": faults.resetConnectionMidBody(count: int("count", 1), afterBytes: (body["afterBytes"] as? NSNumber)?.intValue)
        case "truncateGzip": faults.truncateGzip(count: int("count", 1))
        case "failJob": faults.failJobs(count: int("count", 1), errorMessage: body["errorMessage"] as? String)
        case "failQuery":
            guard let needle = body["soqlContains"] as? String, !needle.isEmpty else { return false }
            faults.failQueries(
                containing: needle, count: int("count", 1),
                errorMessage: body["errorMessage"] as? String ?? FaultInjector.queryTimeoutMessage)
        case "requestLimit": faults.exceedRequestLimit(count: int("count", 1))
        case "expireTokens": faults.expireTokens(afterAPICalls: int("afterCalls", 0))
        case "slowInProgress": faults.slowInProgress(polls: int("polls", 1), jobs: int("jobs", 1))
        case "bandwidth": faults.setBandwidth(bytesPerSecond: (body["bytesPerSecond"] as? NSNumber)?.intValue)
        case "latencyMs": faults.setLatency((body["ms"] as? NSNumber).map { .milliseconds($0.intValue) })
        case "emptyGzipPage": faults.emptyGzipPage(count: int("count", 1))
        case "cutAfterDelimiter": faults.cutAfterDelimiter(count: int("count", 1))
        case "shortTotal": faults.shortTotal(jobs: int("jobs", 1))
        case "loopLocator": faults.loopLocator(count: int("count", 1))
        case "hostileResultLinks":
            guard let link = body["link"] as? String else { return false }
            let placement: FaultInjector.HostileLinkPlacement =
                switch body["placement"] as? String {
                case "pageLinks": .pageLinks
                case "nextRecordsUrl": .nextRecordsUrl
                default: .both
                }
            faults.hostileResultLinks(link, count: int("count", 1), placement: placement)
        case "hostileInstanceURL":
            guard let url = body["url"] as? String else { return false }
            faults.hostileInstanceURL(url, count: int("count", 1))
        case "padDescribe": faults.padDescribe(bytes: (body["bytes"] as? NSNumber)?.intValue)
        case "hostileLocator":
            guard let value = body["value"] as? String else { return false }
            faults.hostileLocator(value, count: int("count", 1))
        case "killAfterPages": killConnection(afterPages: int("pages", 1), count: int("count", 1))
        case "clear":
            faults.clear()
            killConnection(afterPages: 0, count: 0)
        default: return false
        }
        return true
    }

    static func fields(_ value: Any?) -> [String: String?] {
        guard let dict = value as? [String: Any] else { return [:] }
        var out: [String: String?] = [:]
        for (k, v) in dict { out[k] = .some(text(v)) }
        return out
    }

    static func text(_ value: Any?) -> String? {
        switch value {
        case let s as String: s
        case let n as NSNumber:
            // JSONSerialization gives booleans as NSNumber too.
            String(cString: n.objCType) == "c" ? (n.boolValue ? "true" : "false") : n.stringValue
        default: nil
        }
    }
}
