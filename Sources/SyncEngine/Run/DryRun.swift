import PostgresLoader

/// What `sfpg run --dry-run` prints: per job, the mode, the SOQL and the SQL it would execute.
public enum DryRun {
    public static func describe(_ jobs: [JobDefinition], mode: SyncMode?, connection: PostgresConnection) throws -> String {
        var out = ""
        let store = SyncStore(connection)
        for job in jobs {
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
