import Foundation

/// What one run spent of the org's daily allowances, recorded on its `sfpg.sync_logs` row once it has finished
/// (its Bulk jobs deleted), so the row holds the whole run: preflight, jobs, polls, pages and cleanup.
public struct RunUsage: Sendable, Equatable {
    public var apiCalls: Int
    public var resultBytes: Int64
    public var bulkJobs: Int
    public var bulkJobSeconds: Double?

    public init(apiCalls: Int, resultBytes: Int64, bulkJobs: Int, bulkJobSeconds: Double?) {
        self.apiCalls = apiCalls
        self.resultBytes = resultBytes
        self.bulkJobs = bulkJobs
        self.bulkJobSeconds = bulkJobSeconds
    }
}

/// How fast a job's recent successful runs went, for forecasts; nil fields where no run says.
public struct ObservedRate: Sendable, Equatable {
    /// Seconds a Bulk job took per record it read, and at least (small jobs still queue on Salesforce).
    public var bulkSecondsPerRecord: Double?
    public var bulkSecondsMinimum: Double?
    /// Records downloaded and loaded per second, outside the Bulk wait.
    public var recordsPerSecond: Double?
    /// Runs the figures come from.
    public var runs: Int
}

extension SyncStore {
    /// Writes `usage` on run `runId`'s log row.
    public func recordUsage(_ usage: RunUsage, runId: Int64) throws {
        try connection.execute(
            """
            UPDATE sfpg.sync_logs SET api_calls_used = $2::int, result_bytes = $3::bigint, bulk_jobs = $4::int,
                bulk_job_seconds = $5::float8
            WHERE id = $1::bigint
            """,
            [String(runId), String(usage.apiCalls), String(usage.resultBytes), String(usage.bulkJobs),
             usage.bulkJobSeconds.map { String($0) }])
    }

    /// The rates of the job's last 10 successful runs that recorded their usage, else of any job's.
    public func observedRate(jobName: String) throws -> ObservedRate {
        let own = try observedRate(of: jobName)
        return own.runs > 0 ? own : try observedRate(of: nil)
    }

    private func observedRate(of jobName: String?) throws -> ObservedRate {
        let result = try connection.execute(
            """
            WITH recent AS (
                SELECT records_downloaded::float8 AS records, bulk_job_seconds AS bulk,
                       extract(epoch FROM completed_at - started_at)::float8 - coalesce(bulk_job_seconds, 0) AS load
                  FROM sfpg.sync_logs
                 WHERE status = 'success' AND bulk_jobs IS NOT NULL AND records_downloaded IS NOT NULL
                   AND ($1::text IS NULL OR job_name = $1)
                 ORDER BY id DESC LIMIT 10)
            SELECT sum(bulk) / nullif(sum(records), 0) AS per_record, min(bulk) AS minimum,
                   sum(records) / nullif(sum(greatest(load, 0.001)), 0) AS rate, count(*) AS runs
              FROM recent
            """, [jobName])
        return ObservedRate(
            bulkSecondsPerRecord: result[0, "per_record"].flatMap(Double.init),
            bulkSecondsMinimum: result[0, "minimum"].flatMap(Double.init),
            recordsPerSecond: result[0, "rate"].flatMap(Double.init), runs: result[0, "runs"].flatMap { Int($0) } ?? 0)
    }
}
