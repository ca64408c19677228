import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// One Bulk job of a run and the `Id` range it reads (nil when the run reads everything with one job).
struct RangeJob: Sendable {
    var id: String
    var range: IdRange?
    /// How often this range's ancestors were split again because their job failed.
    var resplits: Int
    /// When Salesforce created the job (its clock), once known.
    var createdDate: Date?
    /// The part's select list when a wide object is read in parts (``SyncRunner/createParts``); nil: the plan's.
    var fields: [String]? = nil
}

/// Every Bulk job of one run: the one place that creates, records as in flight, waits for, re-splits, abandons
/// and deletes them, whatever the mode (one job, `split: N`, a re-split range, a shard, a column refresh, the
/// one-row queries that find where ranges start).
///
/// `live` always holds exactly the jobs whose results the run will load, in range order, and the same list is
/// recorded (through `record`) as soon as it changes, so a killed process's rerun can abandon or reuse them.
final class BulkJobs {
    let client: SalesforceClient
    let plan: SyncPlan
    let logger: Logger
    /// Records the live jobs' ids as in flight (in `sfpg.sync_state`, or the shard's row), in its own transaction,
    /// with ``signature``.
    let record: (_ ids: [String], _ signature: String) throws -> Void
    /// What the live jobs read, recorded with them so a later run can tell whether they still serve it.
    var signature: String
    /// Called with each job's SOQL once it exists (tests inject changes between snapshots here).
    let onCreated: ((String) -> Void)?
    /// The run's `api_budget`, checked before every job this creates.
    let budget: ApiBudget?
    private(set) var live: [RangeJob] = []
    private(set) var completed: [QueryJob] = []
    /// The object refuses Bulk queries: the run reads it through REST `queryAll` instead, with no Bulk job, as of
    /// Salesforce's clock at `restSnapshot` (``SyncRunner/readThroughREST``).
    var readsThroughREST = false
    var restSnapshot: String?
    /// When the run's first Bulk job was submitted (or adopted), and when the last one completed.
    private(set) var submittedAt: ContinuousClock.Instant?
    private(set) var completedAt: ContinuousClock.Instant?

    /// Seconds from the first job's submission to the last one's completion (for metrics).
    var waitSeconds: Double? {
        guard let submittedAt, let completedAt else { return nil }
        return (completedAt - submittedAt).inSeconds
    }

    init(
        client: SalesforceClient, plan: SyncPlan, logger: Logger, onCreated: ((String) -> Void)? = nil,
        budget: ApiBudget? = nil, record: @escaping (_ ids: [String], _ signature: String) throws -> Void
    ) {
        self.budget = budget
        signature = plan.signature
        self.client = client
        self.plan = plan
        self.logger = logger
        self.onCreated = onCreated
        self.record = record
    }

    var ids: [String] { live.map(\.id) }
    var joinedIds: String? { live.isEmpty ? nil : ids.joined(separator: ",") }

    /// Σ of every completed job's `numberRecordsProcessed`; nil when one is missing (the run cannot prove itself).
    var expectedRecords: Int? {
        completed.reduce(Optional(0)) { sum, done in sum.flatMap { sum in done.numberRecordsProcessed.map { sum + $0 } } }
    }

    /// What the watermark rule needs: each loaded job's range and creation.
    func snapshots(within shardRange: KeyRange? = nil) -> [SnapshotScope] {
        if readsThroughREST { return [SnapshotScope(range: shardRange ?? .all, createdDate: restSnapshot)] }
        return zip(live, completed).map { job, done in
            let range = job.range ?? shardRange ?? .all
            return SnapshotScope(range: range, createdDate: (done.createdDate ?? job.createdDate).map(formatTimestamp))
        }
    }

    /// The resumable run these jobs stage into (``SyncRunner/resumeStaged(_:job:plan:scope:leftover:)``), once
    /// known: adopted from a killed run, or begun by this one.
    var resumed: StagedRun?

    /// The live jobs' range boundaries in order (empty for one job), as ``SplitRanges/init(boundaries:)`` takes them.
    var boundaries: [String] { live.dropFirst().compactMap { $0.range?.lower } }

    /// Takes over the jobs an interrupted run left, whose results still serve this run: one per range of
    /// `boundaries` (one job when empty).
    func adopt(_ existing: [QueryJob], boundaries: [String] = []) {
        submittedAt = submittedAt ?? .now
        let ranges = SplitRanges(boundaries: boundaries)
        live = existing.enumerated().map { index, job in
            RangeJob(
                id: job.id, range: existing.count > 1 ? ranges.range(index) : nil, resplits: 0, createdDate: job.createdDate)
        }
    }

    /// Creates one job per range of `ranges` (one job when it holds a single range), recording each at once.
    func create(_ ranges: SplitRanges, readingShard shardCondition: String? = nil) throws {
        for index in 0..<ranges.count {
            let range = ranges.count > 1 ? ranges.range(index) : nil
            try create(range: range, condition: range?.condition ?? shardCondition, resplits: 0, at: live.count)
        }
    }

    /// Creates the job of one part of a wide object's fields (after the others), recording it at once.
    func create(fields: [String]) throws {
        try create(range: nil, condition: nil, resplits: 0, at: live.count, fields: fields)
    }

    /// Creates the job of one range and records the live list before anything else happens: if this process dies
    /// now, the next run finds the job instead of paying for it twice. If recording fails, the caller abandons
    /// every live job at once rather than leave them running and billed.
    private func create(range: IdRange?, condition: String?, resplits: Int, at index: Int, fields: [String]? = nil) throws {
        let soql = plan.soql(range: condition, fields: fields)
        try budget?.beforeBulkJob()
        submittedAt = submittedAt ?? .now
        let created = try client.createQueryJob(soql, operation: plan.operation)
        live.insert(
            RangeJob(id: created.id, range: range, resplits: resplits, createdDate: created.createdDate, fields: fields),
            at: index)
        try record(ids, signature)
        onCreated?(soql)
        logger.info(
            "bulk query submitted",
            metadata: [
                "sf.job": "\(created.id)", "sf.operation": "\(plan.operation.rawValue)", "sf.range": "\(condition ?? "all")",
            ])
    }

    /// Waits for each job in range order. A split range whose job failed in a way a smaller range can fix
    /// (``SyncRunner/resplitReason(_:)``) is abandoned and replaced by two jobs over its halves, at most
    /// ``SyncRunner/maxResplits`` deep, when `ranges` is given.
    func waitForAll(resplitting ranges: SplitRanges?, cancellation: CancellationFlag) throws {
        completed = []
        var index = 0
        while index < live.count {
            let current = live[index]
            do {
                let done = try client.waitForCompletion(current.id)
                completed.append(done)
                index += 1
                logger.info(
                    "bulk query complete",
                    metadata: ["sf.job": "\(done.id)", "sf.records": .stringConvertible(done.numberRecordsProcessed ?? -1)])
            } catch {
                guard !cancellation.isCancelled, let ranges, let range = current.range,
                    let reason = SyncRunner.resplitReason(error)
                else { throw error }
                guard current.resplits < SyncRunner.maxResplits, let (lower, upper) = halves(of: range, in: ranges) else {
                    throw SyncRunner.rangeFailure(error, range: range, resplits: current.resplits)
                }
                logger.warning(
                    "re-splitting an Id range whose bulk job failed",
                    metadata: [
                        "sf.job": "\(current.id)", "sf.range": "\(range)", "sync.resplit_reason": "\(reason)",
                        "sync.resplits": .stringConvertible(current.resplits + 1), "sync.halves": "\(lower) \(upper)",
                    ])
                abandon(current.id)
                live.remove(at: index)
                // The other ranges' jobs keep the list non-empty while the halves are created.
                try record(ids, signature)
                for (offset, half) in [lower, upper].enumerated() {
                    try create(range: half, condition: half.condition, resplits: current.resplits + 1, at: index + offset)
                }
            }
        }
        completedAt = .now
    }

    /// `range` cut in two where its own records are (``SplitRanges/halves(of:holding:)``): between the smallest and
    /// largest Id it really holds. If those cannot be read, the cut is interpolated between the range's ends.
    func halves(of range: IdRange, in ranges: SplitRanges) -> (IdRange, IdRange)? {
        do {
            let (smallest, largest) = try idBounds(within: range)
            guard let smallest, let largest else { return nil }
            return ranges.halves(of: range, holding: (smallest, largest))
        } catch {
            logger.warning(
                "could not read the Id range's own ends; halving it between its bounds",
                metadata: ["sf.range": "\(range)", "error": "\(error)"])
            return ranges.halves(of: range)
        }
    }

    /// The smallest and largest Id the plan's query reads (within `range`), from two one-row Bulk queries
    /// submitted together; nil ends when it reads nothing. The two jobs are deleted whatever happens; they read one
    /// Id each, so a process killed meanwhile leaves little behind (Salesforce deletes jobs after 7 days).
    func idBounds(within range: IdRange? = nil) throws -> (String?, String?) {
        var created: [String] = []
        defer { for id in created { abandon(id) } }
        for ascending in [true, false] {
            let soql = plan.boundarySOQL(ascending: ascending, range: range?.condition)
            try budget?.beforeBulkJob()
            created.append(try client.createQueryJob(soql, operation: plan.operation).id)
        }
        var ends: [String?] = []
        for id in created {
            let done = try client.waitForCompletion(id)
            let capture = FirstIdCapture()
            _ = try client.downloadResults(id, maxRecords: nil, expectedRecords: done.numberRecordsProcessed, into: capture)
            ends.append(capture.firstId)
        }
        return (ends[0], ends[1])
    }

    /// The rows are committed: the results are no longer needed. Salesforce would delete them after 7 days
    /// anyway, so a failure here is only worth a warning.
    func deleteAll() {
        for id in ids {
            do { try client.deleteJob(id) } catch {
                logger.warning("could not delete the finished bulk job", metadata: ["sf.job": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// The run failed: aborts (if still running) and deletes every live job, then forgets them.
    func abandonAll() {
        for id in ids { abandon(id) }
    }

    /// Aborts (if still running) and deletes a Bulk job the run no longer needs; best effort, and never cancelled.
    func abandon(_ id: String) {
        Self.abandon(id, client: client, logger: logger)
    }

    static func abandon(_ id: String, client: SalesforceClient, logger: Logger) {
        client.withoutCancellation { cleanup in
            if let job = try? cleanup.queryJob(id), !job.isTerminal {
                do { try cleanup.abortJob(id) } catch {
                    logger.warning("could not abort the bulk job", metadata: ["sf.job": "\(id)", "error": "\(error)"])
                }
            }
            try? cleanup.deleteJob(id)
        }
    }
}
