import Foundation
import PostgresLoader

/// Per job: the last run, its counts, the watermark, rows in the table and how stale the table is
/// (what the seed's `GET /sync/stats` answered).
public struct JobStatus: Codable, Sendable {
    public var job: String
    public var object: String?
    public var table: String?
    public var lastRunStatus: String?
    public var lastSyncType: String?
    public var lastStartedAt: String?
    public var lastCompletedAt: String?
    public var lastError: String?
    public var recordsProcessed: Int?
    public var recordsInserted: Int?
    public var recordsUpdated: Int?
    public var recordsDeleted: Int?
    public var recordsUnchanged: Int?
    public var watermark: String?
    public var lastSuccessAt: String?
    /// Seconds since the last successful run finished; nil if it never succeeded.
    public var secondsSinceLastSuccess: Double?
    public var rowsInTable: Int?
    public var bulkJobInFlight: String?
    /// When the job's formula fields were last re-read (a full run or a `refresh_calculated` refresh).
    public var calculatedRefreshedAt: String? = nil
}

public enum StatusReport {
    /// Reads the status of every job that has run, plus `jobs` that never did.
    public static func collect(_ connection: PostgresConnection, jobs: [JobDefinition]) throws -> [JobStatus] {
        let result = try connection.execute(
            """
            SELECT s.job_name, s.object_name, s.target_table,
                   to_char(s.watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS watermark,
                   s.bulk_job_id, s.calculated_refreshed_at::text AS calculated_refreshed_at, l.status, l.sync_type, l.started_at::text, l.completed_at::text, l.error_message,
                   l.records_processed, l.records_inserted, l.records_updated, l.records_deleted, l.records_unchanged,
                   ok.completed_at::text AS last_success_at,
                   extract(epoch FROM now() - ok.completed_at)::float8 AS since_success
              FROM sfpg.sync_state s
              LEFT JOIN LATERAL (SELECT * FROM sfpg.sync_logs g WHERE g.job_name = s.job_name ORDER BY g.id DESC LIMIT 1) l ON true
              LEFT JOIN LATERAL (SELECT g.completed_at FROM sfpg.sync_logs g
                                  WHERE g.job_name = s.job_name AND g.status = 'success' ORDER BY g.id DESC LIMIT 1) ok ON true
             ORDER BY s.job_name
            """
        )
        var statuses: [JobStatus] = []
        for row in 0..<result.rows.count {
            func value(_ column: String) -> String? { result[row, column] }
            statuses.append(JobStatus(
                job: value("job_name") ?? "?", object: value("object_name"), table: value("target_table"),
                lastRunStatus: value("status"), lastSyncType: value("sync_type"), lastStartedAt: value("started_at"),
                lastCompletedAt: value("completed_at"), lastError: value("error_message"),
                recordsProcessed: value("records_processed").flatMap { Int($0) },
                recordsInserted: value("records_inserted").flatMap { Int($0) },
                recordsUpdated: value("records_updated").flatMap { Int($0) },
                recordsDeleted: value("records_deleted").flatMap { Int($0) },
                recordsUnchanged: value("records_unchanged").flatMap { Int($0) },
                watermark: value("watermark"), lastSuccessAt: value("last_success_at"),
                secondsSinceLastSuccess: value("since_success").flatMap { Double($0) },
                rowsInTable: nil, bulkJobInFlight: value("bulk_job_id"),
                calculatedRefreshedAt: value("calculated_refreshed_at")
            ))
        }
        for job in jobs where !statuses.contains(where: { $0.job == job.name }) {
            statuses.append(JobStatus(job: job.name, object: job.object, table: job.table.description))
        }
        for index in statuses.indices {
            guard let table = statuses[index].table ?? jobs.first(where: { $0.name == statuses[index].job })?.table.description,
                let name = try? TableName(parsing: table)
            else { continue }
            // A table that is not there yet (job never run, not migrated) is reported as unknown, not as an error.
            if let count = try? connection.execute("SELECT count(*) FROM \(name.quoted)") {
                statuses[index].rowsInTable = count.rows.first?.first?.flatMap { Int($0) }
            }
        }
        return statuses.sorted { $0.job < $1.job }
    }
}
