/// What an incremental run's deletes check brings to its commit (issue 18): staged with ``LoadRun`` between
/// `begin()` and `commit`, applied after the merge in the run's transaction, with the position the next check starts
/// from, which commits with it (a run that does not commit re-reads the same window).
public enum DeletesCheck: Sendable, Equatable {
    /// getDeleted's records were staged (``LoadRun/stageDeletedRecords(ids:deletedDates:)``): apply them.
    case deletedRecords(coveredUntil: String)
    /// The object's keys were staged (``LoadRun/keySweepSink()``): rows whose key is missing go, within max_sweep.
    case keySweep(coveredUntil: String)
    /// Nothing to apply: a full run's snapshot reflects every deletion before it.
    case covered(until: String)

    /// Every deletion up to this instant (Salesforce's clock, ISO-8601) is in the table once the run commits.
    public var coveredUntil: String {
        switch self {
        case .deletedRecords(let until), .keySweep(let until), .covered(let until): until
        }
    }
}

extension LoadRun {
    /// Stages records getDeleted listed: `ids` with their deletion times (ISO-8601; nil when unreadable), in
    /// batches of parameters. Call between ``begin()`` and the commit, once per window.
    public func stageDeletedRecords(ids: [String], deletedDates: [String?]) throws {
        try connection.execute(plan.deletedRecordsDDL)
        for start in stride(from: 0, to: ids.count, by: 10_000) {
            let end = min(ids.count, start + 10_000)
            try connection.execute(
                plan.insertDeletedRecordsSQL,
                [SyncStore.arrayLiteral(Array(ids[start..<end])),
                 SyncStore.arrayLiteral(deletedDates[start..<end].map { $0 ?? "" })])
        }
    }

    /// Where a key sweep's result pages go (its temporary key table, created now). Call after ``begin()``.
    public func keySweepSink() throws -> TableSink {
        try connection.execute(plan.sweptKeysDDL)
        return TableSink(connection: connection, copySQL: plan.sweptKeysCopySQL, fields: [mapping.key.source])
    }

    /// Applies the deletes check after the merge: audit rows first (the old values), then the deletes.
    /// - Returns: the rows deleted or marked deleted, and of them the ones a key sweep removed.
    /// - Throws: ``RunRefused`` when a key sweep would remove more than max_sweep allows.
    func applyDeletesCheck(_ check: DeletesCheck, allowMassDelete: Bool) throws -> (removed: Int, swept: Int) {
        let gone: String
        switch check {
        case .covered: return (0, 0)
        case .deletedRecords: gone = plan.listedAsDeleted
        case .keySweep:
            try connection.execute("ANALYZE \(LoadPlan.sweptKeys)")
            gone = plan.missingFromStaging(within: .all, relation: LoadPlan.sweptKeys)
        }
        if mapping.audit != nil, let audit = plan.auditSweepSQL(gone: gone) { try connection.execute(audit) }
        guard case .keySweep = check else {
            let sql = try plan.sweepSQL(gone: gone, deletedAt: plan.listedDeletionTime)
            return (try sql.map { try connection.execute($0).affectedRows } ?? 0, 0)
        }
        guard let sweep = try plan.sweepSQL(gone: gone) else { return (0, 0) }
        let swept = try applySweep(sweep, within: .all, allowMassDelete: allowMassDelete, what: "key sweep")
        return (swept, swept)
    }
}
