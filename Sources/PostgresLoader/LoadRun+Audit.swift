extension LoadRun {
    /// Before the merge: captures old and new values of every record the merge (and a full sweep) will change
    /// into a scratch table, set-based. A no-op for jobs without an audit trail.
    func captureAudit(fullSweep: Bool) throws {
        guard mapping.audit != nil else { return }
        try connection.execute(plan.auditCaptureSQL)
        if fullSweep, let sweep = plan.auditSweepSQL { try connection.execute(sweep) }
    }

    /// After the run-log row exists: moves the captured changes into `sfpg.changes` under the run's id and prunes
    /// rows past the job's retention. Same transaction as the merge, so the trail never disagrees with the table.
    func storeAudit(runId: Int64) throws {
        guard let audit = mapping.audit else { return }
        try connection.execute(
            """
            INSERT INTO sfpg.changes (run_id, job_name, record_key, operation, changes, system_modstamp)
            SELECT $1::bigint, $2, record_key, operation, changes, system_modstamp FROM \(LoadPlan.auditStaging)
            ORDER BY record_key
            """, [String(runId), jobName])
        try Self.pruneAudit(connection, jobName: jobName, policy: audit)
    }

    /// Deletes the job's audit rows older than its retention.
    static func pruneAudit(_ connection: PostgresConnection, jobName: String, policy: AuditPolicy) throws {
        guard let seconds = policy.retentionSeconds else { return }
        try connection.execute(
            "DELETE FROM sfpg.changes WHERE job_name = $1 AND recorded_at < now() - make_interval(secs => $2::float8)",
            [jobName, String(seconds)])
    }
}
