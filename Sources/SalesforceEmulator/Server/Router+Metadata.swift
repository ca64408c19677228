extension Router {
    /// `GET /services/data/`: versions, oldest first. Needs no token and is not counted.
    func versionList() -> EmulatorResponse {
        let names = ["Winter", "Spring", "Summer"]
        return .json(
            200,
            .array(
                versions.map { v in
                    let n = Int(Double(v) ?? 0)
                    // v47 was Winter '20; three releases a year.
                    let season = names[(n - 47) % 3]
                    let year = 20 + (n - 47 + 2) / 3
                    return .object([
                        ("label", .string("\(season) '\(year)")), ("url", .string("/services/data/v\(v)")),
                        ("version", .string(v)),
                    ])
                }))
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
    func sobjects(_ rest: [String], version: String) -> EmulatorResponse {
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
        guard rest.count == 2, rest[1] == "describe", let table = org.snapshot().table(rest[0]) else {
            let name = rest.first ?? ""
            return .error(404, "NOT_FOUND", "The requested resource does not exist: sObject type '\(name)' is not supported.")
        }
        return .json(200, DescribeRenderer.describe(table, version: version))
    }
}
