extension LoadRun {
    /// Before the merge: captures old and new values of every record the merge (and a full sweep) will change
    /// into a scratch table, set-based. A no-op for jobs without an audit trail.
    func captureAudit(fullSweep: Bool, within range: KeyRange = .all) throws {
        guard mapping.audit != nil else { return }
        try connection.execute(plan.auditCaptureSQL)
        if fullSweep, let sweep = plan.auditSweepSQL(within: range) { try connection.execute(sweep, range.parameters) }
    }

    /// After the run-log row exists: moves the captured changes into `sfpg.changes` under the run's id and prunes
    /// rows past the job's retention. Same transaction as the merge, so the trail never disagrees with the table.
    func storeAudit(runId: Int64) throws {
        guard let audit = mapping.audit else { return }
        try store.appendChanges(
            fromQuery: "SELECT record_key, operation, changes, system_modstamp FROM \(LoadPlan.auditStaging)",
            runId: runId, jobName: jobName, policy: audit)
    }
}
