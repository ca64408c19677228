import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// The counting half of `sfpg verify`: Salesforce's aggregate counts (REST) against the table's live rows, per
/// calendar window, narrowed from years to months to days only where the counts differ. A window whose count
/// timed out on Salesforce (`QUERY_TIMEOUT`, as large objects do) is narrowed into its children instead of failing.
///
/// The result is the windows to compare record by record: a differing day, or a differing window small enough
/// (``compareBelow`` records) that listing it whole is cheaper than counting its children.
final class DriftSurvey {
    let client: SalesforceClient
    let job: JobDefinition
    let check: DriftCheck
    let logger: Logger
    /// A differing window with at most this many records (on either side) is listed whole.
    let compareBelow: Int
    private(set) var windowsChecked = 0
    private(set) var differing: [CountWindow] = []
    private var earliest: Date?

    init(client: SalesforceClient, job: JobDefinition, check: DriftCheck, logger: Logger, compareBelow: Int = 50_000) {
        self.client = client
        self.job = job
        self.check = check
        self.logger = logger
        self.compareBelow = compareBelow
    }

    /// Counts every window from all time down; ``differing`` holds what to compare.
    func run() throws {
        try examine(.all)
    }

    /// Compares `window`'s children on both sides and goes down into those that differ.
    private func examine(_ window: CountWindow) throws {
        let salesforce: [String: Int]
        do {
            salesforce = try salesforceCounts(window)
        } catch let error as SalesforceError where error.errorCode == "QUERY_TIMEOUT" {
            logger.info("count timed out: narrowing the window", metadata: ["verify.window": "\(window)"])
            guard window.level != .day else { return differing.append(window) }
            if window.level == .all { earliest = try earliestModstamp() }
            for child in window.children(earliest: earliest) { try examine(child) }
            return
        }
        let table = try check.counts(
            per: window.childUnit, from: CountWindow.literal(window.start), to: CountWindow.literal(window.end))
        for bucket in Set(salesforce.keys).union(table.keys).sorted() {
            windowsChecked += 1
            let (remote, local) = (salesforce[bucket] ?? 0, table[bucket] ?? 0)
            guard remote != local, let child = CountWindow(level: window.childLevel, day: bucket) else { continue }
            logger.debug(
                "counts differ", metadata: ["verify.window": "\(child)", "verify.salesforce": "\(remote)", "verify.table": "\(local)"])
            if child.level == .day || max(remote, local) <= compareBelow || window.level == .day {
                differing.append(child)
            } else {
                try examine(child)
            }
        }
    }

    /// Salesforce's live records per child of `window` (REST aggregate query, the job's filter applied), by bucket.
    private func salesforceCounts(_ window: CountWindow) throws -> [String: Int] {
        let soql = window.countSOQL(object: job.object, field: job.watermark, filter: job.whereClause)
        var counts: [String: Int] = [:]
        _ = try client.query(soql, as: [String: JSONValue].self) { rows in
            for row in rows {
                guard let bucket = window.bucket(row["b"]?.plain), let count = row["c"]?.plain.flatMap({ Int($0) }) else { continue }
                counts[bucket, default: 0] += count
            }
        }
        return counts
    }

    /// The earliest modstamp on either side, where the years of a timed-out first count start.
    private func earliestModstamp() throws -> Date? {
        struct Row: Decodable { var stamp: String? }
        var remote: String?
        let soql = "SELECT \(job.watermark) FROM \(job.object)" + (job.whereClause.map { " WHERE (\($0))" } ?? "")
            + " ORDER BY \(job.watermark) ASC LIMIT 1"
        _ = try client.query(soql, as: [String: JSONValue].self) { rows in
            remote = rows.first.flatMap { row in row.first { $0.key.caseInsensitiveEquals(job.watermark) }?.value.plain }
        }
        let dates = [remote, try check.earliestModstamp()].compactMap { $0.flatMap(parseTimestamp) }
        return dates.min()
    }
}

extension JSONValue {
    /// A scalar as text (numbers as written), nil for anything else.
    var plain: String? {
        switch self {
        case .string(let text): text
        case .number(let number): "\(number)"
        case .bool(let value): "\(value)"
        default: nil
        }
    }
}
