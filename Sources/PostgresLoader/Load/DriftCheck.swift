/// The PostgreSQL side of `sfpg verify` on one job's table: live rows counted per calendar window of the modstamp,
/// and Salesforce's listing of the windows whose counts differ, COPYed into a temp table and compared with the
/// table in one read-only transaction. Call inside the job's lock.
public final class DriftCheck: PageSink {
    let connection: PostgresConnection
    let plan: LoadPlan
    public let jobName: String
    private var open = false

    /// A calendar window's size, as `date_trunc` names it.
    public enum Unit: String, Sendable {
        case year, month, day
    }

    /// What the listing of some windows showed: records compared, missing from the table (or marked deleted
    /// there), stale (an older modstamp in the table), and the table's live keys in those windows that Salesforce
    /// did not list (extra, unless their modstamp moved to another window).
    public struct ListingDrift: Sendable {
        public var compared = 0
        public var missing = 0
        public var stale = 0
        public var unlisted: [String] = []
    }

    /// - Throws: `PostgresError` `.schema` when the table or a mapped column is missing.
    public init(store: SyncStore, jobName: String, mapping: LoadMapping) throws {
        connection = store.connection
        self.jobName = jobName
        plan = try LoadPlan(mapping: mapping, columnTypes: try LoadRun.columnTypes(of: mapping.table, connection))
    }

    /// Live rows per `unit` with a modstamp in [`from`, `to`) (ISO-8601 instants), keyed by the window's first day
    /// (`YYYY-MM-DD`).
    public func counts(per unit: Unit, from: String, to: String) throws -> [String: Int] {
        let result = try connection.execute(plan.windowCountsSQL, [from, to, unit.rawValue])
        var counts: [String: Int] = [:]
        for row in 0..<result.rows.count {
            if let bucket = result[row, "bucket"] { counts[bucket] = Int(result[row, "n"] ?? "") ?? 0 }
        }
        return counts
    }

    /// The earliest live modstamp (ISO-8601 UTC); nil for a table without live rows.
    public func earliestModstamp() throws -> String? {
        try connection.execute(plan.earliestModstampSQL)[0, "earliest"]
    }

    /// The fields the listing's CSV holds, in order: the key's and the modstamp's.
    public var listingFields: [String] { [plan.mapping.key.source, plan.mapping.modstamp.source] }

    /// Opens the comparison's transaction and its listing table; then the pages, then ``compare(windows:)``.
    public func beginListing() throws {
        try connection.execute("BEGIN")
        open = true
        try connection.execute("SET LOCAL statement_timeout = 0")
        try connection.execute(plan.verifyListingDDL)
    }

    public func beginPage(_ pageNumber: Int) throws -> PageWriter {
        try connection.beginStagingPage(pageNumber, copySQL: plan.verifyListingCopySQL, expectedFields: listingFields)
    }

    @discardableResult
    public func finishPage(_ page: PageWriter) throws -> Int {
        try connection.finishStagingPage(page)
    }

    public func abort(_ page: PageWriter, because error: any Error) -> any Error {
        connection.abortStagingPage(page, because: error)
    }

    /// Compares the listing with the table, then rolls the transaction back: a verify changes no row.
    /// - Parameter windows: the listed windows, [start, end) as ISO-8601 instants.
    public func compare(windows: [(start: String, end: String)]) throws -> ListingDrift {
        defer { rollback() }
        // Without statistics the planner takes the fresh listing for a few rows and probes the table once per key.
        try connection.execute("ANALYZE \(LoadPlan.verifyListing)")
        let counts = try connection.execute(plan.listingDriftSQL)
        var drift = ListingDrift()
        drift.compared = Int(counts[0, "compared"] ?? "") ?? 0
        drift.missing = Int(counts[0, "missing"] ?? "") ?? 0
        drift.stale = Int(counts[0, "stale"] ?? "") ?? 0
        let array = { (values: [String]) in "{" + values.joined(separator: ",") + "}" }
        let unlisted = try connection.execute(
            plan.unlistedKeysSQL, [array(windows.map(\.start)), array(windows.map(\.end))])
        drift.unlisted = (0..<unlisted.rows.count).compactMap { unlisted[$0, "key"] }
        return drift
    }

    /// Ends an open comparison without keeping anything; safe to call twice.
    public func rollback() {
        if open { _ = try? connection.execute("ROLLBACK") }
        open = false
    }

    /// Stages the keys a repair sweeps (``KeyRange/verifiedExtras``) in a session temp table, which the repair's
    /// own transaction then reads; ``dropExtras()`` removes it.
    public func stageExtras(_ keys: [String]) throws {
        try connection.execute(plan.verifyExtrasDDL)
        try connection.execute("TRUNCATE \(LoadPlan.verifyExtras)")
        try connection.execute(plan.verifyExtrasInsertSQL, [SyncStore.arrayLiteral(keys)])
    }

    public func dropExtras() {
        _ = try? connection.execute("DROP TABLE IF EXISTS \(LoadPlan.verifyExtras)")
    }
}

@available(*, unavailable)
extension DriftCheck: Sendable {}
