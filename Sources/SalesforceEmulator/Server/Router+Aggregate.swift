extension Router {
    static let aggregateBatchLimit = 2000

    /// An aggregate query's REST answer: one batch (aggregate queries have no `queryMore`), `AggregateResult` records
    /// without `url`; `SELECT COUNT()` answers `totalSize` with no records.
    func aggregateResponse(_ query: SOQLAggregateQuery, table: ObjectTable, snapshot: OrgSnapshot, all: Bool)
        -> EmulatorResponse
    {
        let evaluator = AggregateEvaluator(query: query, table: table, snapshot: snapshot, includeDeleted: all)
        let threshold = policy.withLock { $0.aggregateTimeoutRecords } ?? .max
        let timeout = EmulatorResponse.error(400, "QUERY_TIMEOUT", "Your query request was running for too long.")
        if evaluator.isPlainCount {
            let count = evaluator.matchingCount()
            guard count <= threshold else { return timeout }
            let limited = min(count, query.limit ?? .max)
            return .json(200, .object([("totalSize", .int(limited)), ("done", true), ("records", .array([]))]))
        }
        if threshold < .max, evaluator.matchingCount() > threshold { return timeout }
        let (total, records) = evaluator.records()
        // Measured on real orgs: past one batch an aggregate query is refused outright, not paged.
        guard records.count <= Self.aggregateBatchLimit else {
            return .error(
                400, "EXCEEDED_ID_LIMIT",
                "Aggregate query does not support queryMore(), use LIMIT to restrict the results to a single batch")
        }
        return .json(
            200, .object([("totalSize", .int(total)), ("done", true), ("records", .array(records))]))
    }
}
