import PostgresLoader

/// What `sfpg run --dry-run` prints: per job, the mode, the SOQL and the SQL it would execute.
public enum DryRun {
    public static func describe(_ jobs: [JobDefinition], mode: SyncMode?, connection: PostgresConnection) throws -> String {
        var out = ""
        for job in jobs {
            let run = try LoadRun(
                connection: connection, jobName: job.name, objectName: job.object, mapping: job.loadMapping,
                syncType: .full, lock: .failFast
            )
            let plan = try SyncPlan(job: job, requested: mode, previousWatermark: run.previousWatermark)
            out += "-- job \(job.name) (\(job.file)): \(plan.mode.rawValue) sync, watermark \(run.previousWatermark ?? "none")\n"
            out += "-- Bulk API 2.0 \(plan.operation.rawValue):\n\(plan.soql)\n"
            out += "-- SQL, in one transaction:\n"
            for statement in run.previewSQL(fullSweep: plan.sweepsMissingKeys) { out += statement + "\n" }
            out += "\n"
        }
        return out
    }
}
