import Foundation

extension Router {
    /// Admin calls for the org's limits and life: the recycle bin, policies (timeouts, weights, refusals), daily
    /// allowances, a sandbox refresh, pages served per job. Nil when the call is not one of these.
    func adminControl(_ method: String, _ segments: [String], body: [String: Any]) -> EmulatorResponse? {
        let ok = EmulatorResponse.json(200, .object([("ok", true)]))
        switch (method, segments) {
        case ("POST", ["recycleBin", "purge"]):
            org.purgeRecycleBin(body["object"] as? String)
            return ok
        case ("POST", ["recycleBin"]):
            guard let seconds = body["retentionSeconds"] as? NSNumber else { return nil }
            org.setRecycleBinRetention(.milliseconds(Int64(seconds.doubleValue * 1000)))
            return ok
        case ("POST", ["policy"]):
            policy.withLock { Self.apply(body, to: &$0) }
            return ok
        case ("POST", ["limits"]):
            return setLimits(body)
        case ("POST", ["limits", "reset"]):
            usage.withLock { $0 = Usage() }
            return ok
        case ("POST", ["org", "refresh"]):
            tokens.changeOrgId()
            return .json(200, .object([("organizationId", .string(tokens.orgId18))]))
        case ("GET", let s) where s.count == 3 && s[0] == "jobs" && s[2] == "pages":
            return .json(200, .object([("jobId", .string(s[1])), ("pagesServed", .int(pagesServed.withLock { $0[s[1], default: 0] }))]))
        default:
            return nil
        }
    }

    /// Sets the policy's fields present in `body`; `null` turns a threshold off.
    private static func apply(_ body: [String: Any], to policy: inout OrgPolicy) {
        func optionalInt(_ key: String) -> Int?? {
            guard let value = body[key] else { return .none }
            return .some((value as? NSNumber)?.intValue)
        }
        if let value = optionalInt("aggregateTimeoutRecords") { policy.aggregateTimeoutRecords = value }
        if let value = optionalInt("maxQueryWeight") { policy.maxQueryWeight = value }
        if let value = (body["replicationIdLimit"] as? NSNumber)?.intValue { policy.replicationIdLimit = value }
        if let value = (body["formulaFieldWeight"] as? NSNumber)?.intValue { policy.formulaFieldWeight = value }
        if let objects = body["bulkUnsupportedObjects"] as? [String] {
            policy.bulkUnsupportedObjects = Set(objects.map { $0.lowercased() })
        }
        if let objects = body["nonReplicateableObjects"] as? [String] {
            policy.nonReplicateableObjects = Set(objects.map { $0.lowercased() })
        }
    }

    /// `{"DailyApiRequests": {"Max": 15000, "Remaining": 10}, …}`: sets daily allowances (see ``setAllowance``).
    private func setLimits(_ body: [String: Any]) -> EmulatorResponse {
        for (name, value) in body {
            let entry = value as? [String: Any] ?? [:]
            let max = (entry["Max"] as? NSNumber)?.intValue
            guard setAllowance(name, max: max, remaining: (entry["Remaining"] as? NSNumber)?.intValue) else {
                return .error(
                    400, "INVALID_LIMIT",
                    "Unknown limit \(name); settable: DailyApiRequests, DailyBulkV2QueryJobs, DailyBulkV2QueryFileStorageMB")
            }
        }
        return .json(200, .object([("ok", true)]))
    }

    /// Sets a daily allowance's maximum (when given) and what is left of it (when given, by moving what has been
    /// used), for the limits `/limits` reports and enforces. False for an unknown name.
    func setAllowance(_ name: String, max: Int?, remaining: Int?) -> Bool {
        let path: (WritableKeyPath<OrgPolicy, Int>, WritableKeyPath<Usage, Int>, Int)
        switch name {
        case "DailyApiRequests": path = (\.dailyApiRequests, \.apiRequests, 1)
        case "DailyBulkV2QueryJobs": path = (\.dailyBulkV2QueryJobs, \.queryJobs, 1)
        case "DailyBulkV2QueryFileStorageMB": path = (\.dailyBulkV2QueryFileStorageMB, \.resultBytes, 1_048_576)
        default: return false
        }
        let maximum = policy.withLock { policy in
            if let max { policy[keyPath: path.0] = max }
            return policy[keyPath: path.0]
        }
        if let remaining { usage.withLock { $0[keyPath: path.1] = Swift.max(0, maximum - remaining) * path.2 } }
        return true
    }
}
