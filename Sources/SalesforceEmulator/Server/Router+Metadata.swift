import Foundation

extension Router {
    /// `GET /services/data/`: versions, oldest first. Needs no token and is not counted.
    func versionList() -> EmulatorResponse {
        .json(
            200,
            .array(
                versions.map { v in
                    .object([
                        ("label", .string(Self.releaseLabel(Int(Double(v) ?? 0)))),
                        ("url", .string("/services/data/v\(v)")), ("version", .string(v)),
                    ])
                }))
    }

    /// The release an API version shipped with: three releases a year, anchored at v31.0 = Summer '14 (checked
    /// against v47.0 = Winter '20, v48.0 = Spring '20, v58.0 = Summer '23, v60.0 = Spring '24). A Winter release
    /// carries the next year's name.
    static func releaseLabel(_ version: Int) -> String {
        let k = version - 31
        let season = ["Summer", "Winter", "Spring"][((k % 3) + 3) % 3]
        let year = 14 + (k + 2) / 3
        return "\(season) '\(String(format: "%02d", year))"
    }

    /// `GET /services/data/vXX.X/limits`.
    func limits() -> EmulatorResponse {
        let used = usage.withLock { $0 }
        func limit(_ max: Int, _ used: Int) -> JSONValue {
            .object([("Max", .int(max)), ("Remaining", .int(Swift.max(0, max - used)))])
        }
        return .json(
            200,
            .object([
                ("DailyApiRequests", limit(configuration.dailyApiRequests, used.apiRequests)),
                ("DailyBulkApiBatches", limit(15_000, 0)),
                ("DailyBulkV2QueryJobs", limit(Self.maxQueryJobs, used.queryJobs)),
                ("DailyBulkV2QueryFileStorageMB", limit(Self.maxResultMB, used.resultMB)),
                ("DataStorageMB", limit(1024, 12)),
                ("FileStorageMB", limit(2048, 3)),
            ]))
    }

    /// `GET /sobjects` and `GET /sobjects/{Object}/describe`.
    func sobjects(_ rest: [String], version: String, request: EmulatorRequest) -> EmulatorResponse {
        if rest.isEmpty {
            return .json(
                200,
                .object([
                    ("encoding", "UTF-8"), ("maxBatchSize", 200),
                    ("sobjects", .array(ObjectSchema.all.map { s in
                        .object([
                            ("name", .string(s.name)), ("label", .string(s.label)), ("keyPrefix", .string(s.keyPrefix)),
                            ("queryable", true), ("replicateable", true), ("retrieveable", true), ("custom", false),
                        ])
                    })),
                ]))
        }
        if rest.count == 2, rest[1] == "deleted", let table = org.snapshot().table(rest[0]) {
            return deleted(table, request: request)
        }
        if rest.count == 2, rest[1] == "updated", let table = org.snapshot().table(rest[0]) {
            return updated(table, request: request)
        }
        if rest.count == 1, let table = org.snapshot().table(rest[0]) {
            return basicInfo(table, version: version)
        }
        if rest.count == 2, rest[1] != "describe", let table = org.snapshot().table(rest[0]) {
            return record(table, id: rest[1], request: request, version: version)
        }
        guard rest.count == 2, rest[1] == "describe", let table = org.snapshot().table(rest[0]) else {
            let name = rest.first ?? ""
            return .error(404, "NOT_FOUND", "The requested resource does not exist: sObject type '\(name)' is not supported.")
        }
        var describe = DescribeRenderer.describe(table, version: version)
        if let padding = faults.describePadding, case .object(var members) = describe {
            members.append(("emulatorPadding", .string(String(repeating: "x", count: padding))))
            describe = .object(members)
        }
        return .json(200, describe)
    }

    /// `GET /sobjects/{Object}/deleted/?start=…&end=…`: deletions in the window, within the last 15 days.
    private func deleted(_ table: ObjectTable, request: EmulatorRequest) -> EmulatorResponse {
        guard let start = request.query["start"].flatMap(Timestamps.parseDatetime),
            let end = request.query["end"].flatMap(Timestamps.parseDatetime), start <= end
        else {
            return .error(400, "INVALID_REPLICATION_DATE", "start and end must be dateTime values with start <= end")
        }
        let now = nowMillis()
        let earliest = now - 15 * 86_400_000
        guard start >= earliest - 60_000 else {
            return .error(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than 15 days ago")
        }
        // Like Salesforce, coverage ends at a whole minute.
        let covered = min(end, now) / 60_000 * 60_000
        let records = table.deletions.filter { $0.value >= start && $0.value <= end }.sorted { $0.value < $1.value }
        return .json(
            200,
            .object([
                ("deletedRecords", .array(records.map { id, millis in
                    .object([("id", .string(id)), ("deletedDate", .string(Timestamps.restDatetime(millis: millis)))])
                })),
                ("earliestDateAvailable", .string(Timestamps.restDatetime(millis: earliest / 60_000 * 60_000))),
                ("latestDateCovered", .string(Timestamps.restDatetime(millis: covered))),
            ]))
    }
}
