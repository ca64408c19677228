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
    /// Seconds from the last run's start to its completion; nil while it runs.
    public var lastRunSeconds: Double? = nil
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
    /// The Salesforce org the table was read from; nil before the job's first committed run.
    public var orgId: String? = nil
    /// What the last run spent: Salesforce API calls (preflight to cleanup) and uncompressed result bytes.
    public var apiCalls: Int? = nil
    public var resultBytes: Int64? = nil
    /// The job's latest `sfpg verify`: what it compared and found (missing, stale, extra) and repaired.
    public var lastVerify: VerifyRecord? = nil
    /// The job file's `verify:` interval in seconds, and whether that long has passed since the last verify.
    public var verifyEverySeconds: Int? = nil
    public var verifyDue: Bool? = nil
    /// A killed (or failed) run's staged pages that the next run resumes from (README, "Resume").
    public var resumable: [StagedRunReport]? = nil
}

public enum StatusReport {
    /// What `sfpg status --json` prints and `sfpg serve` answers `GET /sync/stats` with: one encoding for both.
    public static func json(_ connection: PostgresConnection, jobs: [JobDefinition]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(try collect(connection, jobs: jobs)), as: UTF8.self)
    }

    /// Reads the status of every job that has run, plus `jobs` that never did.
    public static func collect(_ connection: PostgresConnection, jobs: [JobDefinition]) throws -> [JobStatus] {
        let store = SyncStore(connection)
        var statuses = try ReportSchema.reading(store.latestRunRecords).map { run in
            var status = JobStatus(run)
            if let runId = run.runId, let shards = try? store.shards(ofRunLog: runId), !shards.isEmpty {
                status.shards = shards
            }
            return status
        }
        for job in jobs where !statuses.contains(where: { $0.job == job.name }) {
            statuses.append(JobStatus(job: job.name, object: job.object, table: job.table.description))
        }
        let verifies = (try? store.latestVerifies()) ?? [:]
        // Before migration 013 there is nothing staged to show.
        let staged = (try? store.stagedRunReports()) ?? []
        for index in statuses.indices {
            let runs = staged.filter { $0.job == statuses[index].job }
            if !runs.isEmpty { statuses[index].resumable = runs }
        }
        for index in statuses.indices {
            let job = statuses[index].job
            statuses[index].lastVerify = verifies[job]
            if let every = jobs.first(where: { $0.name == job })?.verifySeconds {
                statuses[index].verifyEverySeconds = every
                statuses[index].verifyDue = verifies[job]?.secondsAgo.map { $0 >= Double(every) } ?? true
            }
            guard let table = statuses[index].table ?? jobs.first(where: { $0.name == statuses[index].job })?.table.description,
                let name = try? TableName(parsing: table)
            else { continue }
            statuses[index].table = name.displayName
            // A table that is not there yet (job never run, not migrated) is reported as unknown, not as an error.
            statuses[index].rowsInTable = store.rowCount(of: name)
        }
        return statuses.sorted { $0.job < $1.job }
    }
}

extension JobStatus {
    init(_ run: LatestRun) {
        self.init(job: run.jobName, object: run.objectName, table: run.targetTable)
        lastRunStatus = run.status
        lastSyncType = run.syncType
        lastStartedAt = run.startedAt
        lastCompletedAt = run.completedAt
        lastRunSeconds = run.runSeconds
        lastError = run.errorMessage
        recordsProcessed = run.processed
        recordsInserted = run.inserted
        recordsUpdated = run.updated
        recordsDeleted = run.deleted
        recordsUnchanged = run.unchanged
        recordsExpected = run.expected
        recordsDownloaded = run.downloaded
        resultPages = run.resultPages
        failureReason = run.failureReason
        watermark = run.watermark
        lastSuccessAt = run.lastSuccessAt
        secondsSinceLastSuccess = run.secondsSinceLastSuccess
        bulkJobInFlight = run.bulkJobInFlight
        calculatedRefreshedAt = run.calculatedRefreshedAt
        orgId = run.orgId
        apiCalls = run.apiCalls
        resultBytes = run.resultBytes
    }
}
