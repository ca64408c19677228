/// A resumable run: the Bulk jobs it reads, what it was read for, and the pages already staged (`sfpg.resume_runs`
/// and its ledger `sfpg.resume_pages`, migration 013).
public struct StagedRun: Sendable, Equatable {
    /// `''` for a job's run, `shard <run id>/<index>` for one shard of a sharded run.
    public var scope: String
    public var fingerprint: String
    public var bulkJobIds: [String]
    /// A split run's range boundaries (one Bulk job per range); empty for one job.
    public var boundaries: [String]
    /// The staging table, quoted and schema-qualified (`sfpg_stage."…"`).
    public var stageTable: String
    /// Per Bulk job: the pages staged so far, always pages 1…n (a run stages its pages in order).
    public var progress: [String: StagedProgress]

    /// Σ over every Bulk job.
    public var total: StagedProgress {
        progress.values.reduce(StagedProgress()) {
            StagedProgress(pages: $0.pages + $1.pages, records: $0.records + $1.records, bytes: $0.bytes + $1.bytes)
        }
    }
}

/// The staged pages of one Bulk job (or of a run): how many, their records and decoded bytes, and the locator
/// that followed the last one (the locator chain resumes there).
public struct StagedProgress: Sendable, Equatable, Codable {
    public var pages = 0
    public var records = 0
    public var bytes: Int64 = 0
    public var nextLocator: String? = nil

    public init(pages: Int = 0, records: Int = 0, bytes: Int64 = 0, nextLocator: String? = nil) {
        self.pages = pages
        self.records = records
        self.bytes = bytes
        self.nextLocator = nextLocator
    }
}

/// A job's resumable run as `sfpg status` shows it.
public struct StagedRunReport: Sendable, Equatable, Codable {
    public var job: String
    public var scope: String
    public var bulkJobIds: [String]
    public var recordsExpected: Int?
    public var staged: StagedProgress
    public var startedAt: String
}

extension SyncStore {
    public static let stageSchema = "sfpg_stage"

    /// The job's (or shard's) resumable run, with its ledger summed per Bulk job; nil when there is none.
    public func stagedRun(jobName: String, scope: String) throws -> StagedRun? {
        let run = try connection.execute(
            """
            SELECT fingerprint, array_to_string(bulk_job_ids, ',') AS ids, array_to_string(boundaries, ',') AS bounds,
                stage_table FROM sfpg.resume_runs WHERE job_name = $1 AND scope = $2
            """, [jobName, scope])
        guard let fingerprint = run[0, "fingerprint"], let table = run[0, "stage_table"] else { return nil }
        // Pages are staged in order, so a job's ledger is pages 1…n; anything else is not trusted to resume from.
        let pages = try connection.execute(
            """
            SELECT bulk_job_id, count(*) AS pages, max(page_index) AS last, sum(records) AS records,
                sum(bytes) AS bytes, (array_agg(next_locator ORDER BY page_index DESC))[1] AS next
            FROM sfpg.resume_pages WHERE job_name = $1 AND scope = $2 GROUP BY bulk_job_id
            """, [jobName, scope])
        var progress: [String: StagedProgress] = [:]
        for row in 0..<pages.rows.count {
            guard let id = pages[row, "bulk_job_id"], let count = Int(pages[row, "pages"] ?? ""),
                pages[row, "last"] == String(count)
            else { return nil }
            progress[id] = StagedProgress(
                pages: count, records: Int(pages[row, "records"] ?? "") ?? 0, bytes: Int64(pages[row, "bytes"] ?? "") ?? 0,
                nextLocator: pages[row, "next"])
        }
        func list(_ text: String?) -> [String] { (text ?? "").split(separator: ",").map(String.init) }
        return StagedRun(
            scope: scope, fingerprint: fingerprint, bulkJobIds: list(run[0, "ids"]), boundaries: list(run[0, "bounds"]),
            stageTable: table, progress: progress)
    }

    /// Records a new resumable run and creates its staging table (`ddl` of the quoted name), replacing any earlier
    /// one of the same job and scope; committed at once, before the first page.
    /// - Returns: the new run, nothing staged yet.
    public func beginStagedRun(
        jobName: String, scope: String, fingerprint: String, bulkJobIds: [String], boundaries: [String],
        recordsExpected: Int?, ddl: (String) -> String
    ) throws -> StagedRun {
        // Named from the job and its first Bulk job (unique per run), within PostgreSQL's 63-byte identifiers.
        let name = String("\(jobName.prefix(24)) \(bulkJobIds.first ?? "")\(scope.isEmpty ? "" : " " + scope)".utf8.prefix(63))
            ?? jobName
        let table = SQLIdentifier.quote(Self.stageSchema) + "." + SQLIdentifier.quote(name)
        try connection.withTransaction {
            try dropStagedRun(jobName: jobName, scope: scope)
            try connection.execute(
                """
                INSERT INTO sfpg.resume_runs (job_name, scope, fingerprint, bulk_job_ids, boundaries, stage_table,
                    records_expected)
                VALUES ($1, $2, $3, string_to_array($4, ','), string_to_array($5, ','), $6, $7::bigint)
                """,
                [jobName, scope, fingerprint, bulkJobIds.joined(separator: ","), boundaries.joined(separator: ","), table,
                 recordsExpected.map(String.init)])
            try connection.execute(ddl(table))
        }
        return StagedRun(
            scope: scope, fingerprint: fingerprint, bulkJobIds: bulkJobIds, boundaries: boundaries, stageTable: table,
            progress: [:])
    }

    /// The rows in the run's staging table: fewer than its ledger counts after a database crash, which empties
    /// UNLOGGED tables.
    public func stagedRows(of run: StagedRun) throws -> Int {
        Int(try connection.execute("SELECT count(*) AS n FROM \(run.stageTable)")[0, "n"] ?? "") ?? -1
    }

    /// One staged page's ledger row, in the page's transaction (so a page is staged and counted, or neither).
    public func recordStagedPage(
        jobName: String, scope: String, bulkJobId: String, page: Int, nextLocator: String?, records: Int, bytes: Int64
    ) throws {
        try connection.execute(
            """
            INSERT INTO sfpg.resume_pages (job_name, scope, bulk_job_id, page_index, next_locator, records, bytes)
            VALUES ($1, $2, $3, $4::integer, $5, $6::bigint, $7::bigint)
            """, [jobName, scope, bulkJobId, String(page), nextLocator, String(records), String(bytes)])
    }

    /// Drops the resumable run's staging table and its bookkeeping (the ledger goes with it); in the caller's
    /// transaction, if any: the commit of the run that merged the rows drops them with the merge.
    public func dropStagedRun(jobName: String, scope: String) throws {
        let table = try connection.execute(
            "SELECT stage_table FROM sfpg.resume_runs WHERE job_name = $1 AND scope = $2", [jobName, scope])[0, "stage_table"]
        // The name was written by ``beginStagedRun`` from quoted identifiers.
        if let table { try connection.execute("DROP TABLE IF EXISTS \(table)") }
        try connection.execute("DELETE FROM sfpg.resume_runs WHERE job_name = $1 AND scope = $2", [jobName, scope])
    }

    /// Every resumable run, for `sfpg status`.
    public func stagedRunReports() throws -> [StagedRunReport] {
        let result = try connection.execute(
            """
            SELECT r.job_name, r.scope, array_to_string(r.bulk_job_ids, ',') AS ids, r.records_expected,
                count(p.page_index) AS pages, coalesce(sum(p.records), 0) AS records, coalesce(sum(p.bytes), 0) AS bytes,
                to_char(r.started_at AT TIME ZONE 'UTC', \(LoadPlan.isoFormat)) AS started_at
            FROM sfpg.resume_runs r LEFT JOIN sfpg.resume_pages p USING (job_name, scope)
            GROUP BY r.job_name, r.scope, r.bulk_job_ids, r.records_expected, r.started_at ORDER BY 1, 2
            """)
        return (0..<result.rows.count).map { row in
            StagedRunReport(
                job: result[row, "job_name"] ?? "", scope: result[row, "scope"] ?? "",
                bulkJobIds: (result[row, "ids"] ?? "").split(separator: ",").map(String.init),
                recordsExpected: result[row, "records_expected"].flatMap { Int($0) },
                staged: StagedProgress(
                    pages: Int(result[row, "pages"] ?? "") ?? 0, records: Int(result[row, "records"] ?? "") ?? 0,
                    bytes: Int64(result[row, "bytes"] ?? "") ?? 0),
                startedAt: result[row, "started_at"] ?? "")
        }
    }
}
