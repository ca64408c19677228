import Foundation

/// What `sfpg status` shows of one job that has state: its state, its latest run and its latest success. Instants
/// are RFC 3339 in UTC with milliseconds (`2024-05-01T12:00:00.000Z`).
public struct LatestRun: Sendable, Equatable {
    public var jobName: String
    public var objectName: String?
    public var targetTable: String?
    public var watermark: String?
    public var bulkJobInFlight: String?
    public var calculatedRefreshedAt: String?
    /// The latest run-log row; nil fields when the job has state but no run.
    public var runId: Int64?
    public var status: String?
    public var syncType: String?
    public var startedAt: String?
    public var completedAt: String?
    /// From start to completion; nil while the run is unfinished.
    public var runSeconds: Double?
    public var errorMessage: String?
    public var failureReason: String?
    public var processed: Int?
    public var inserted: Int?
    public var updated: Int?
    public var deleted: Int?
    public var unchanged: Int?
    public var expected: Int?
    public var downloaded: Int?
    public var resultPages: Int?
    public var lastSuccessAt: String?
    public var secondsSinceLastSuccess: Double?
    /// The org the job's table was read from (`sfpg.sync_state.org_id`); nil before its first committed run.
    public var orgId: String? = nil
    /// What the latest run spent: Salesforce API calls and uncompressed result bytes.
    public var apiCalls: Int? = nil
    public var resultBytes: Int64? = nil
}

/// One `sfpg.changes` row's change to one column, values as JSON text (`"a@b.c"`, `12.5`, `true`; nil for null).
public struct StoredChange: Sendable, Equatable {
    public var id: Int64
    public var runId: Int64?
    public var operation: String
    public var systemModstamp: String?
    public var recordedAt: String
    /// nil for a row that changed no column (its `changes` object is empty).
    public var column: String?
    public var old: String?
    public var new: String?
}

extension SyncStore {
    /// Per job that has state, its latest run and latest success, by job name (for `sfpg status`).
    public func latestRunRecords() throws -> [LatestRun] {
        let result = try connection.execute(Self.latestRunsSQL)
        return (0..<result.rows.count).map { row in
            func text(_ column: String) -> String? { result[row, column] }
            func number(_ column: String) -> Int? { text(column).flatMap { Int($0) } }
            return LatestRun(
                jobName: text("job_name") ?? "?", objectName: text("object_name"), targetTable: text("target_table"),
                watermark: text("watermark"), bulkJobInFlight: text("bulk_job_id"),
                calculatedRefreshedAt: text("calculated_refreshed_at"), runId: text("run_id").flatMap { Int64($0) },
                status: text("status"), syncType: text("sync_type"), startedAt: text("started_at"),
                completedAt: text("completed_at"), runSeconds: text("run_seconds").flatMap { Double($0) },
                errorMessage: text("error_message"),
                failureReason: text("failure_reason"), processed: number("records_processed"),
                inserted: number("records_inserted"), updated: number("records_updated"),
                deleted: number("records_deleted"), unchanged: number("records_unchanged"),
                expected: number("records_expected"), downloaded: number("records_downloaded"),
                resultPages: number("result_pages"), lastSuccessAt: text("last_success_at"),
                secondsSinceLastSuccess: text("since_success").flatMap { Double($0) }, orgId: text("org_id"),
                apiCalls: number("api_calls_used"), resultBytes: text("result_bytes").flatMap { Int64($0) })
        }
    }

    static let latestRunsSQL = """
        SELECT s.job_name, s.object_name, s.target_table, s.org_id,
               \(instant("s.watermark")) AS watermark,
               s.bulk_job_id, \(instant("s.calculated_refreshed_at")) AS calculated_refreshed_at, l.id AS run_id, l.status,
               l.sync_type, \(instant("l.started_at")) AS started_at, \(instant("l.completed_at")) AS completed_at,
               extract(epoch FROM l.completed_at - l.started_at)::float8 AS run_seconds, l.error_message, l.failure_reason,
               l.records_processed, l.records_inserted, l.records_updated, l.records_deleted, l.records_unchanged,
               l.records_expected, l.records_downloaded, l.result_pages, l.api_calls_used, l.result_bytes,
               \(instant("ok.completed_at")) AS last_success_at,
               extract(epoch FROM now() - ok.completed_at)::float8 AS since_success
          FROM sfpg.sync_state s
          LEFT JOIN LATERAL (SELECT * FROM sfpg.sync_logs g WHERE g.job_name = s.job_name
                                AND g.sync_type IS DISTINCT FROM 'verify' ORDER BY g.id DESC LIMIT 1) l ON true
          LEFT JOIN LATERAL (SELECT g.completed_at FROM sfpg.sync_logs g
                              WHERE g.job_name = s.job_name AND g.status = 'success'
                                AND g.sync_type IS DISTINCT FROM 'verify' ORDER BY g.id DESC LIMIT 1) ok ON true
         ORDER BY s.job_name
        """

    /// A `timestamptz` expression as RFC 3339 text in UTC, the way every report writes instants.
    static func instant(_ expression: String) -> String {
        "to_char(\(expression) AT TIME ZONE 'UTC', \(LoadPlan.isoFormat))"
    }

    /// Every audit row of one record, oldest first, one element per changed column in name order.
    public func changeRecords(jobName: String, recordKey: String) throws -> [StoredChange] {
        let result = try changes(jobName: jobName, recordKey: recordKey)
        return (0..<result.rows.count).map { row in
            StoredChange(
                id: result[row, "id"].flatMap { Int64($0) } ?? 0, runId: result[row, "run_id"].flatMap { Int64($0) },
                operation: result[row, "operation"] ?? "?", systemModstamp: result[row, "modstamp"],
                recordedAt: result[row, "recorded"] ?? "?", column: result[row, "col"], old: result[row, "old"],
                new: result[row, "new"])
        }
    }

    /// The number of rows in `table`; nil when it does not exist (a job never run, a table not created yet).
    public func rowCount(of table: TableName) -> Int? {
        guard let count = try? connection.execute("SELECT count(*) FROM \(table.quoted)") else { return nil }
        return count.rows.first?.first?.flatMap { Int($0) }
    }
}
