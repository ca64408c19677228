extension Router {
    /// Refusals that come before parsing: Salesforce's 100,000-character limit on a SOQL statement.
    func refuseQuery(_ soql: String) -> EmulatorResponse? {
        guard soql.count > OrgPolicy.maxSOQLLength else { return nil }
        return .error(
            400, "MALFORMED_QUERY",
            "SOQL statements cannot be longer than \(OrgPolicy.maxSOQLLength) characters; this one has \(soql.count)")
    }

    /// `QUERY_TOO_COMPLICATED` when the selected fields weigh more than the policy allows (a formula field weighs
    /// more than a stored one, as formulas are what make Salesforce's generated SQL too big).
    func refuseWeight(_ columns: [SOQLColumn], table: ObjectTable) -> EmulatorResponse? {
        let (limit, formulaWeight) = policy.withLock { ($0.maxQueryWeight, $0.formulaFieldWeight) }
        guard let limit else { return nil }
        let weight = columns.reduce(0) { sum, column in
            sum + (column.definition(in: table)?.calculated == true ? formulaWeight : 1)
        }
        guard weight > limit else { return nil }
        return .error(
            400, "QUERY_TOO_COMPLICATED",
            "Query is either selecting too many fields or the filter conditions are very complicated.")
    }

    /// Refusals of a Bulk query job after its SOQL parsed: objects the Bulk API does not support, the weight, and
    /// the daily allowances of query jobs and result storage (a job that passes counts against the former).
    func refuseBulkJob(_ soql: String, query: SOQLQuery, table: ObjectTable) -> EmulatorResponse? {
        let policy = policy.withLock { $0 }
        if policy.bulkUnsupportedObjects.contains(table.schema.name.lowercased()) {
            return .error(400, "INVALIDENTITY", "Entity '\(table.schema.name)' is not supported by the Bulk API.")
        }
        if let refused = refuseWeight(query.columns, table: table) { return refused }
        let exhausted = usage.withLock { usage -> String? in
            if usage.queryJobs >= policy.dailyBulkV2QueryJobs { return "DailyBulkV2QueryJobs" }
            if usage.resultMB >= policy.dailyBulkV2QueryFileStorageMB { return "DailyBulkV2QueryFileStorageMB" }
            usage.queryJobs += 1
            return nil
        }
        guard let exhausted else { return nil }
        return .error(403, "REQUEST_LIMIT_EXCEEDED", "\(exhausted) Limit exceeded.")
    }
}
