/// What one `sfpg verify` of a job found: its `sfpg.sync_logs` row (`sync_type = 'verify'`).
public struct VerifyRecord: Sendable, Equatable, Codable {
    public var status: RunStatus = .success
    /// Count windows compared (Salesforce's aggregate count against the table's live rows).
    public var windowsChecked = 0
    /// Records compared key by key in the windows whose counts differed.
    public var compared = 0
    public var missing = 0
    public var stale = 0
    public var extra = 0
    /// Rows `--repair` inserted, updated or removed.
    public var repaired = 0
    public var apiCalls = 0
    public var errorMessage: String?
    /// Set when read back: when it finished (RFC 3339 UTC) and how long ago, in seconds.
    public var completedAt: String?
    public var secondsAgo: Double?

    public init() {}

    /// Records found missing, stale or extra.
    public var drift: Int { missing + stale + extra }

    /// Adds what another pass over the same job found (`sfpg verify --repair` counts again after repairing).
    public mutating func add(_ pass: VerifyRecord) {
        windowsChecked += pass.windowsChecked
        compared += pass.compared
        missing += pass.missing
        stale += pass.stale
        extra += pass.extra
    }
}

extension RunStatus: Codable {}

extension SyncStore {
    /// The database's clock, for a verify's `started_at`.
    public func clock() throws -> String { try now() }

    /// Appends a verify's `sfpg.sync_logs` row, in its own statement. - Returns: the row's id.
    @discardableResult
    public func appendVerify(_ record: VerifyRecord, jobName: String, objectName: String, startedAt: String) throws -> Int64 {
        let numbers = [
            record.windowsChecked, record.compared, record.missing, record.stale, record.extra, record.repaired,
            record.apiCalls,
        ].map { Optional(String($0)) }
        let row = try connection.execute(
            """
            INSERT INTO sfpg.sync_logs (sync_type, job_name, object_name, started_at, completed_at, status, errors,
                error_message, windows_checked, records_compared, records_missing, records_stale, records_extra,
                records_repaired, api_calls_used, request_id)
            VALUES ('verify', $1, $2, $3::timestamptz, clock_timestamp(), $4::text, CASE WHEN $4::text = 'success' THEN 0 ELSE 1 END,
                $5, $6, $7, $8, $9, $10, $11, $12, $13)
            RETURNING id
            """, [jobName, objectName, startedAt, record.status.rawValue, record.errorMessage] + numbers + [requestId])
        return Int64(row[0, "id"] ?? "") ?? 0
    }

    /// Each job's latest verify, by job name (for `sfpg status`).
    public func latestVerifies() throws -> [String: VerifyRecord] {
        let result = try connection.execute(
            """
            SELECT DISTINCT ON (job_name) job_name, status, error_message, windows_checked, records_compared,
                records_missing, records_stale, records_extra, records_repaired, api_calls_used,
                \(Self.instant("completed_at")) AS completed_at,
                extract(epoch FROM now() - completed_at)::float8 AS seconds_ago
            FROM sfpg.sync_logs WHERE sync_type = 'verify' ORDER BY job_name, id DESC
            """)
        var latest: [String: VerifyRecord] = [:]
        for row in 0..<result.rows.count {
            let number = { (column: String) in Int(result[row, column] ?? "") ?? 0 }
            var record = VerifyRecord()
            record.status = RunStatus(rawValue: result[row, "status"] ?? "") ?? .failed
            record.errorMessage = result[row, "error_message"]
            record.windowsChecked = number("windows_checked")
            record.compared = number("records_compared")
            record.missing = number("records_missing")
            record.stale = number("records_stale")
            record.extra = number("records_extra")
            record.repaired = number("records_repaired")
            record.apiCalls = number("api_calls_used")
            record.completedAt = result[row, "completed_at"]
            record.secondsAgo = result[row, "seconds_ago"].flatMap { Double($0) }
            if let job = result[row, "job_name"] { latest[job] = record }
        }
        return latest
    }
}
