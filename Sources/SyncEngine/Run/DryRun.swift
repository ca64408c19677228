import PostgresLoader

/// What `sfpg run --dry-run` prints: per job, the mode, the SOQL and the SQL it would execute.
public enum DryRun {
    /// - Parameter fieldCheck: checks the jobs with `on_missing_field: skip` against Salesforce's describe, so what
    ///   is printed leaves out the fields a run would skip; the other jobs are printed without asking Salesforce.
    public static func describe(
        _ jobs: [JobDefinition], mode: SyncMode?, connection: PostgresConnection, fieldCheck: FieldCheck? = nil
    ) throws -> String {
        var out = ""
        let store = SyncStore(connection)
        for var job in jobs {
            if job.onMissingField == .skip, let fieldCheck { job = try fieldCheck.check(job) }
            // Under the job's lock, so what it prints is what a run starting now would do.
            try store.withJobLock(job.name, table: job.table, policy: .failFast) { state in
                let plan = try SyncPlan(job: job, requested: mode, previousWatermark: state.watermark)
                let run = try LoadRun(
                    store: store, state: state, jobName: job.name, objectName: job.object, mapping: job.loadMapping,
                    syncType: plan.mode == .full ? .full : .incremental)
                out += "-- job \(job.name) (\(job.file)): \(plan.mode.rawValue) sync, watermark \(state.watermark ?? "none")\n"
                out += "-- Bulk API 2.0 \(plan.operation.rawValue):\n\(plan.soql)\n"
                if plan.split > 1 {
                    out += "-- split: \(plan.split) Bulk jobs over Id ranges between the smallest and largest Id "
                        + "(each: the query above AND Id >= '…' AND Id < '…'), loaded into one run\n"
                }
                out += "-- SQL, in one transaction:\n"
                for statement in run.previewSQL(fullSweep: plan.sweepsMissingKeys) { out += statement + "\n" }
                out += "\n"
            }
        }
        return out
    }
}
