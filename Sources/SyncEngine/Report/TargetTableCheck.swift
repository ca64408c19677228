import PostgresLoader

/// A job's target table, checked by the code a run checks it with before its first Bulk job
/// (``LoadRun/checkTarget(_:_:)``, which preparing the run's ``LoadRun`` calls too); failures name the job file.
public enum TargetTableCheck {
    /// - Returns: a line for `sfpg check`'s report.
    /// - Throws: what the run would: exit 2 for a missing table, column or schema, a modstamp column that loses
    ///   milliseconds, or a key without a usable unique index.
    public static func require(_ job: JobDefinition, _ connection: PostgresConnection) throws -> String {
        do { try LoadRun.checkTarget(job.loadMapping, connection) } catch { throw explained(error, job) }
        return "\(job.table.displayName) has a column for each of the \(job.fields.count) mapped fields and a "
            + "unique index on \(job.loadMapping.key.column)"
    }

    /// `error` from checking or preparing the job's target, with the job file and the ways to fix the table; any
    /// other error unchanged. The exit code stays the error's.
    static func explained(_ error: any Error, _ job: JobDefinition) -> any Error {
        guard let failure = error as? PostgresError, failure.code == .schema || failure.code == .configuration
        else { return error }
        let table = job.table.displayName
        let fix = failure.code == .configuration ? "" : "; 'sfpg migrate' applies \(job.name).sql from beside the job "
            + "file, 'sfpg describe \(job.object) --table \(table) --apply' creates the table, '--alter' prints the "
            + "ADD COLUMN for a missing column"
        return SyncError("\(job.file): \(failure)\(fix)", reason: ExitReason(for: error))
    }
}
