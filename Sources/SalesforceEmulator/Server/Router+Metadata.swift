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
        let policy = policy.withLock { $0 }
        func limit(_ max: Int, _ used: Int) -> JSONValue {
            .object([("Max", .int(max)), ("Remaining", .int(Swift.max(0, max - used)))])
        }
        return .json(
            200,
            .object([
                ("DailyApiRequests", limit(policy.dailyApiRequests, used.apiRequests)),
                ("DailyBulkApiBatches", limit(15_000, 0)),
                ("DailyBulkV2QueryJobs", limit(policy.dailyBulkV2QueryJobs, used.queryJobs)),
                ("DailyBulkV2QueryFileStorageMB", limit(policy.dailyBulkV2QueryFileStorageMB, used.resultMB)),
                ("DataStorageMB", limit(1024, 12)),
                ("FileStorageMB", limit(2048, 3)),
            ]))
    }

    /// `GET /sobjects` and `GET /sobjects/{Object}/describe`.
    func sobjects(_ rest: [String], version: String, request: EmulatorRequest) -> EmulatorResponse {
        if rest.isEmpty {
            let snapshot = org.snapshot()
            return .json(
                200,
                .object([
                    ("encoding", "UTF-8"), ("maxBatchSize", 200),
                    ("sobjects", .array(snapshot.objectNames.compactMap(snapshot.schema).map { s in
                        .object([
                            ("name", .string(s.name)), ("label", .string(s.label)), ("keyPrefix", .string(s.keyPrefix)),
                            ("queryable", true), ("replicateable", .bool(isReplicateable(s.name))), ("retrieveable", true),
                            ("custom", .bool(s.name.hasSuffix("__c"))),
                        ])
                    })),
                ]))
        }
        if rest.count == 2, rest[1] == "deleted" || rest[1] == "updated", org.snapshot().table(rest[0]) != nil {
            return replication(rest[0], deleted: rest[1] == "deleted", request: request)
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
        var describe = DescribeRenderer.describe(table, version: version, replicateable: isReplicateable(table.schema.name))
        if let padding = faults.describePadding, case .object(var members) = describe {
            members.append(("emulatorPadding", .string(String(repeating: "x", count: padding))))
            describe = .object(members)
        }
        return .json(200, describe)
    }
}
