import Foundation
import PostgresLoader
import SalesforceClient

/// Full: every record, and keys that vanished are deletes. Incremental: what changed since the watermark.
public enum SyncMode: String, Sendable, CaseIterable {
    case full, incremental
}

/// What one run of a job will ask Salesforce for, decided before any API call.
public struct SyncPlan: Sendable {
    public var mode: SyncMode
    public var operation: QueryOperation
    public var soql: String
    /// The lower bound of an incremental read (watermark minus overlap), as a SOQL datetime literal.
    public var since: String?
    /// Whether keys missing from the result are deletes (full sync of an unfiltered object).
    public var sweepsMissingKeys: Bool
    /// The operation and SOQL as one string, recorded with an in-flight Bulk job so a later run can tell whether
    /// that job still serves it.
    public var signature: String { "\(operation.rawValue) \(soql)" }
    private var lowerBoundPrefix: String?
    /// Bulk jobs this run reads with: the job's `split` for a full run, else 1.
    public var split: Int
    /// `SELECT … FROM Obj` and the WHERE conditions of ``soql``, to add a split range to.
    private var select: String
    private var conditions: [String]
    private var object: String

    /// - Parameters:
    ///   - requested: the mode asked for on the command line; nil picks incremental when a watermark exists.
    ///   - previousWatermark: the largest watermark value loaded so far, ISO-8601 UTC.
    public init(job: JobDefinition, requested: SyncMode?, previousWatermark: String?) throws {
        // Without a watermark there is nothing to be incremental from: the first run reads everything, but an
        // explicitly requested incremental run still doesn't sweep (the user asked it not to judge deletes).
        let mode = requested ?? (previousWatermark == nil ? .full : .incremental)
        self.mode = mode
        // queryAll is what makes soft deletes (IsDeleted = true, still in the recycle bin) visible at all.
        operation = job.deletes == .ignore ? .query : .queryAll
        sweepsMissingKeys = mode == .full && job.sweepsOnFullSync

        var conditions: [String] = []
        if let whereClause = job.whereClause { conditions.append("(\(whereClause))") }
        if mode == .incremental, let previousWatermark {
            let since = try Self.soqlDatetime(previousWatermark, minusSeconds: job.overlapSeconds)
            self.since = since
            conditions.append("\(job.watermark) >= \(since)")
        } else {
            since = nil
        }
        lowerBoundPrefix = since == nil ? nil : "\(job.watermark) >= "
        split = mode == .full ? job.split : 1
        object = job.object
        select = "SELECT \(job.loadMapping.sourceFields.joined(separator: ", ")) FROM \(job.object)"
        self.conditions = conditions
        soql = Self.query(select, conditions)
    }

    /// A column pass (a backfill or a formula refresh): `fields` (key, modstamp and the columns' fields) of every
    /// record the job reads, to update rows already loaded. It reads everything, like a full plan, but never sweeps.
    public static func columns(of job: JobDefinition, fields: [String]) throws -> SyncPlan {
        var plan = try SyncPlan(job: job, requested: .full, previousWatermark: nil)
        plan.sweepsMissingKeys = false
        plan.split = 1
        plan.select = "SELECT \(fields.joined(separator: ", ")) FROM \(job.object)"
        plan.soql = Self.query(plan.select, plan.conditions)
        return plan
    }

    /// A verify's read of some windows (`condition`, within the job's filter): a listing of `fields` (key and
    /// modstamp) of the live records (`query`), or, without `fields`, a repair that reads them as a run does. Neither
    /// sweeps nor splits.
    public static func windows(of job: JobDefinition, condition: String?, fields: [String]? = nil) throws -> SyncPlan {
        var plan = try columns(of: job, fields: fields ?? job.loadMapping.sourceFields)
        if let condition { plan.conditions.append("(\(condition))") }
        plan.soql = Self.query(plan.select, plan.conditions)
        if fields != nil { plan.operation = .query }
        return plan
    }

    private static func query(_ select: String, _ conditions: [String], tail: String = "") -> String {
        select + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + tail
    }

    /// The run's query restricted to one split range (``SplitRanges/condition(_:)``); ``soql`` for nil.
    /// - Parameter fields: a part's select list (a wide object read in parts); nil: the job's fields.
    public func soql(range condition: String?, fields: [String]? = nil) -> String {
        guard condition != nil || fields != nil else { return soql }
        let select = fields.map { "SELECT \($0.joined(separator: ", ")) FROM \(object)" } ?? select
        return Self.query(select, conditions + [condition].compactMap { $0 })
    }

    /// `SELECT COUNT()` over what the run reads (its filter and incremental window), for forecasts.
    public var countSOQL: String { Self.query("SELECT COUNT() FROM \(object)", conditions) }

    /// The run's query limited to `records` records: a sample for forecasts.
    public func sampleSOQL(records: Int) -> String { Self.query(select, conditions, tail: " LIMIT \(records)") }

    /// The smallest (or largest) Id the run's query would read, as one tiny query: where a split's ranges start.
    /// - Parameter range: a split range's condition, to find the ends of that range alone.
    public func boundarySOQL(ascending: Bool, range: String? = nil) -> String {
        Self.query(
            "SELECT Id FROM \(object)", conditions + [range].compactMap { $0 },
            tail: " ORDER BY Id \(ascending ? "ASC" : "DESC") LIMIT 1")
    }

    /// Whether the Bulk job an interrupted run left (recorded with its ``signature``) reads a superset of what this
    /// plan needs: an incremental plan, the same operation, fields, object and filter, and a lower bound no later
    /// than this plan's. The merge keeps the newest version of each row, so the extra rows are harmless. A full
    /// plan never reuses: it must judge deletes from a snapshot it knows is complete.
    public func canReuse(jobWithSignature leftover: String) -> Bool {
        guard mode == .incremental, let since, let marker = lowerBoundPrefix,
            let own = signature.range(of: marker, options: .backwards),
            let theirs = leftover.range(of: marker, options: .backwards),
            leftover[..<theirs.lowerBound] == signature[..<own.lowerBound],
            let theirSince = parseTimestamp(String(leftover[theirs.upperBound...])),
            let ourSince = parseTimestamp(since)
        else { return false }
        return theirSince <= ourSince
    }

    /// `2024-01-15T10:30:00.000Z` minus `seconds`, as an unquoted SOQL datetime literal.
    static func soqlDatetime(_ iso: String, minusSeconds seconds: Int) throws -> String {
        guard let date = parseTimestamp(iso) else {
            throw JobDefinitionError(file: "sfpg.sync_state", key: "watermark", problem: "stored watermark '\(iso)' is not an ISO-8601 timestamp")
        }
        return formatTimestamp(date.addingTimeInterval(-Double(seconds)))
    }
}

/// Salesforce and PostgreSQL both print UTC instants as ISO 8601; these read either form and write Salesforce's.
func parseTimestamp(_ text: String) -> Date? {
    let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    let whole = Date.ISO8601FormatStyle()
    let normalized = text.replacingOccurrences(of: " ", with: "T").replacingOccurrences(of: "+00:00", with: "Z")
        .replacingOccurrences(of: "+00", with: "Z")
    return (try? fractional.parse(normalized)) ?? (try? whole.parse(normalized))
}

func formatTimestamp(_ date: Date) -> String {
    date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
}
