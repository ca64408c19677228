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
    /// What the last run proved before committing, or why it refused: Salesforce's record count for its Bulk job,
    /// the records its result pages delivered, and how many pages there were.
    public var recordsExpected: Int? = nil
    public var recordsDownloaded: Int? = nil
    public var resultPages: Int? = nil
    /// `incomplete`, `sweep_limit` or `future_watermark` when sfpg itself refused to commit the last run.
    public var failureReason: String? = nil
    public var watermark: String?
    public var lastSuccessAt: String?
    /// Seconds since the last successful run finished; nil if it never succeeded.
    public var secondsSinceLastSuccess: Double?
    public var rowsInTable: Int?
    public var bulkJobInFlight: String?
    /// When the job's formula fields were last re-read (a full run or a `refresh_calculated` refresh).
    public var calculatedRefreshedAt: String? = nil
    /// The shards of the last run when it was sharded (`--shard I/N`): one logical run, N rows here.
    public var shards: [ShardReport]? = nil
}

public enum StatusReport {
    /// Reads the status of every job that has run, plus `jobs` that never did.
    public static func collect(_ connection: PostgresConnection, jobs: [JobDefinition]) throws -> [JobStatus] {
        let result = try SyncStore(connection).latestRuns()
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
            func number(_ column: String) -> Int? { value(column).flatMap { Int($0) } }
            statuses[statuses.count - 1].recordsExpected = number("records_expected")
            statuses[statuses.count - 1].recordsDownloaded = number("records_downloaded")
            statuses[statuses.count - 1].resultPages = number("result_pages")
            statuses[statuses.count - 1].failureReason = value("failure_reason")
            if let runId = value("run_id").flatMap({ Int64($0) }),
                let shards = try? SyncStore(connection).shards(ofRunLog: runId), !shards.isEmpty
            {
                statuses[statuses.count - 1].shards = shards
            }
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
