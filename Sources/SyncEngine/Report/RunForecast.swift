import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// What one job's next run would spend, predicted before it runs (`sfpg plan`).
public struct JobForecast: Codable, Sendable {
    public var job: String
    public var mode: String
    public var records: Int
    /// `SELECT COUNT()` (the run's own filter and window, exact) or `/limits/recordCount` (Salesforce's periodic
    /// estimate of the whole object, used when the count query fails).
    public var recordsFrom: String
    public var bytesPerRecord: Double
    /// The REST sample the size comes from: its records' values as the Bulk CSV writes them (quoted, separated).
    public var bytesFrom: String
    public var bulkJobs: Int
    public var apiCalls: Int
    public var resultBytes: Int64
    /// Seconds assumed per Bulk job until JobComplete (it decides the polls), and the run's predicted wall time;
    /// nil without a successful run to take the load rate from.
    public var bulkJobSeconds: Double
    public var seconds: Double?
    public var rateFrom: String
}

/// One of the org's daily allowances, as `/limits` reports it.
public struct Allowance: Codable, Sendable {
    public var max: Int
    public var remaining: Int
}

/// `sfpg plan`: per job and in total.
public struct Forecast: Codable, Sendable {
    public var jobs: [JobForecast]
    public var bulkJobs: Int
    public var apiCalls: Int
    public var resultBytes: Int64
    public var seconds: Double?
    /// `DailyApiRequests`, `DailyBulkV2QueryJobs`, `DailyBulkV2QueryFileStorageMB`, when the org reports them.
    public var limits: [String: Allowance]
    /// Calls the forecast itself made (describe, counts, samples, `/limits`).
    public var forecastApiCalls: Int
}

/// Predicts runs from the steps they take: the same preflight (``FieldCheck``), ``SyncPlan`` and
/// ``BulkJobCost`` (jobs from `split:`, polls from the client's backoff, pages from the record count and page size),
/// with the record count and the bytes per record asked of Salesforce, and the rates of the job's past runs.
public struct RunForecaster {
    static let sampleRecords = 200
    static let unobservedBulkSeconds = 0.4
    static let allowances = ["DailyApiRequests", "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"]
    let client: SalesforceClient
    let store: SyncStore
    let logger: Logger

    public init(connection: PostgresConnection, client: SalesforceClient, logger: Logger) {
        self.client = client
        self.store = SyncStore(connection)
        self.logger = logger
    }

    /// - Parameter options: the run's mode and download connections, as `sfpg run` would get them.
    public func forecast(_ jobs: [JobDefinition], options: SyncOptions) throws -> Forecast {
        let start = client.apiCallCount
        let fieldCheck = FieldCheck(client: client, logger: logger)
        let forecasts = try jobs.map { try forecast($0, options: options, fieldCheck: fieldCheck) }
        let limits = try client.limits().filter { Self.allowances.contains($0.key) }
            .mapValues { Allowance(max: $0.max, remaining: $0.remaining) }
        let seconds = forecasts.reduce(Optional(0.0)) { sum, job in sum.flatMap { sum in job.seconds.map { sum + $0 } } }
        return Forecast(
            jobs: forecasts, bulkJobs: forecasts.map(\.bulkJobs).reduce(0, +), apiCalls: forecasts.map(\.apiCalls).reduce(0, +),
            resultBytes: forecasts.map(\.resultBytes).reduce(0, +), seconds: seconds, limits: limits,
            forecastApiCalls: client.apiCallCount - start)
    }

    /// One job's forecast: its preflight is done for real (and counted), the rest predicted.
    private func forecast(_ job: JobDefinition, options: SyncOptions, fieldCheck: FieldCheck) throws -> JobForecast {
        let before = client.apiCallCount
        let runnable = try fieldCheck.check(job)
        _ = try client.organizationId()  // what OrgCheck asks before the run's first Bulk job
        let preflight = client.apiCallCount - before
        let state = try store.state(ofJob: job.name)
        let plan = try SyncPlan(job: runnable, requested: options.mode, previousWatermark: state.watermark)
        let (records, recordsFrom) = try count(plan, object: job.object)
        let (perRecord, sampled) = try bytesPerRecord(plan, fields: runnable.fields.count)
        let rate = try store.observedRate(jobName: job.name)
        // A recorded wait ends at the poll that saw the job complete, up to 20% late by the poll's jitter: 0.8 of
        // it gives back that poll. Without a run to learn from, a job is taken to complete within the first wait.
        let jobSeconds = { (records: Int) -> Double in
            guard let perRecord = rate.bulkSecondsPerRecord else { return Self.unobservedBulkSeconds }
            return 0.8 * max(rate.bulkSecondsMinimum ?? 0, perRecord * Double(records))
        }
        let cost = BulkJobCost.run(
            plan, job: runnable, records: records, jobSeconds: jobSeconds, pageSize: runnable.pageSize,
            connections: options.downloadConnections, client: client)
        // Every page repeats the header row.
        let header = runnable.fields.map { $0.source.utf8.count + 3 }.reduce(0, +)
        let bytes = Int64((Double(records) * perRecord).rounded()) + Int64(cost.pages * header)
        let wait = jobSeconds(records / max(1, plan.split))  // split jobs run at once
        return JobForecast(
            job: job.name, mode: plan.mode.rawValue, records: records, recordsFrom: recordsFrom, bytesPerRecord: perRecord,
            bytesFrom: "REST sample of \(sampled) records", bulkJobs: cost.bulkJobs, apiCalls: preflight + cost.apiCalls,
            resultBytes: bytes, bulkJobSeconds: jobSeconds(records),
            seconds: rate.recordsPerSecond.map { wait + Double(records) / $0 },
            rateFrom: rate.runs == 0 ? "no successful run yet" : "the last \(rate.runs) successful runs")
    }

    /// The records the run would read: `SELECT COUNT()` over its window, else `/limits/recordCount`'s estimate.
    private func count(_ plan: SyncPlan, object: String) throws -> (Int, String) {
        do {
            let summary = try client.query(plan.countSOQL, operation: plan.operation, as: Nothing.self) { _ in }
            return (summary.totalSize, "SELECT COUNT()")
        } catch let error as SalesforceError where error.code != .cancelled {
            logger.warning("SELECT COUNT() failed; using /limits/recordCount", metadata: ["error": "\(error)"])
            return (try client.recordCounts(of: [object])[object] ?? 0, "/limits/recordCount (estimate)")
        }
    }

    /// Mean CSV bytes of a record, from up to ``sampleRecords`` records of the run's own query over REST.
    private func bytesPerRecord(_ plan: SyncPlan, fields: Int) throws -> (Double, Int) {
        var (bytes, records) = (0, 0)
        _ = try client.query(plan.sampleSOQL(records: Self.sampleRecords), operation: plan.operation, as: CSVSizedRecord.self) {
            batch in
            bytes += batch.map(\.bytes).reduce(0, +)
            records += batch.count
        }
        // Each value is quoted and followed by a comma or the line's end.
        return ((records == 0 ? 0 : Double(bytes) / Double(records)) + Double(3 * fields), records)
    }
}

private struct Nothing: Decodable {}

/// A REST record's values as bytes of the Bulk CSV: text as it is (embedded quotes doubled), numbers and booleans
/// as written, null as nothing, a relationship's fields as its own columns; `attributes` is no column.
private struct CSVSizedRecord: Decodable {
    var bytes = 0

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let record = try decoder.container(keyedBy: Key.self)
        for key in record.allKeys where key.stringValue != "attributes" {
            if let text = try? record.decode(String.self, forKey: key) {
                bytes += text.utf8.count + text.utf8.filter { $0 == UInt8(ascii: "\"") }.count
            } else if let flag = try? record.decode(Bool.self, forKey: key) {
                bytes += flag ? 4 : 5
            } else if let number = try? record.decode(Double.self, forKey: key) {
                bytes += String(number).utf8.count
            } else if let parent = try? record.decode(CSVSizedRecord.self, forKey: key) {
                bytes += parent.bytes
            }
        }
    }
}
