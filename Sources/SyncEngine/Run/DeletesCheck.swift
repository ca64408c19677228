import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// How an incremental run of a `deletes: soft|hard` job learns of records deleted for good since the last check
/// (issue 18): an incremental read cannot see a record that is gone. One pass of the run pipeline, in two steps:
/// ``prepare(end:state:)`` before the run's transaction (getDeleted's windows, or a key sweep's Bulk job created,
/// recorded and waited for), ``stage(into:download:)`` inside it (the ids or keys into temporary tables, which the
/// commit applies after the merge, with the position the next check starts from).
final class DeletesCheckPass {
    /// Salesforce answers getDeleted for the last 15 days; the margin keeps a start near the horizon from passing it
    /// while the request travels.
    static let horizon: TimeInterval = 15 * 86_400 - 3_600

    let job: JobDefinition
    let client: SalesforceClient
    let logger: Logger
    let cancellation: CancellationFlag
    /// Records the key sweep's Bulk job as in flight, with the run's data jobs.
    let record: (_ ids: [String], _ signature: String) throws -> Void
    /// Whether describe calls the object replicateable (nil: it did not say).
    let replicateable: Bool?
    /// The key sweep's Bulk jobs, once created: deleted with the run's, abandoned when it fails.
    private(set) var keyJobs: BulkJobs?
    private var found: Found?

    enum Found {
        case deleted([DeletedRecord], coveredUntil: Date)
        case keys(coveredUntil: Date)
    }

    init(
        job: JobDefinition, client: SalesforceClient, logger: Logger, cancellation: CancellationFlag,
        replicateable: Bool?, record: @escaping (_ ids: [String], _ signature: String) throws -> Void
    ) {
        self.job = job
        self.client = client
        self.logger = logger
        self.cancellation = cancellation
        self.replicateable = replicateable
        self.record = record
    }

    /// Reads what can be read before the run's transaction, when a check is due: getDeleted from the stored
    /// position to `end` (the run's snapshot, Salesforce's clock; nil: not known, the local clock's now), else a
    /// key sweep's Bulk job.
    /// - Parameter bulkReadable: false when the run reads the object through REST (the Bulk API refuses it): then
    ///   a key sweep, which is a Bulk query, cannot run either.
    func prepare(end: Date?, state: JobState, bulkReadable: Bool = true) throws {
        guard let cadence = job.deletesCheckSeconds, job.deletes != .ignore else { return }
        let end = end ?? Date()
        let position = state.deletesCoveredUntil.flatMap(parseTimestamp)
        if let position, end.timeIntervalSince(position) < max(60, Double(cadence)) { return }
        var start = position.flatMap { end.timeIntervalSince($0) < Self.horizon ? $0 : nil }
        if start == nil, !job.sweepsOnFullSync {
            // A filtered job cannot key-sweep (a record that left the filter is not deleted): getDeleted as far back
            // as Salesforce keeps it is the most that can be known.
            logger.warning("deletes older than the last 15 days cannot be checked for a filtered job; run it --full")
            start = end.addingTimeInterval(-Self.horizon)
        }
        if let start, replicateable != false {
            do {
                var records: [DeletedRecord] = []
                let covered = try readDeleted(from: start, to: end, into: &records)
                found = .deleted(records, coveredUntil: covered)
                return
            } catch let error as DeletesUnavailable {
                logger.notice("getDeleted cannot answer: checking deletes with a key sweep", metadata: ["sync.reason": "\(error.reason)"])
            }
        }
        guard job.sweepsOnFullSync else { return }
        guard bulkReadable else {
            logger.warning("the Bulk API cannot read the object, so no key sweep: its next full run sweeps deletes")
            return
        }
        try prepareKeySweep()
    }

    /// getDeleted over `[start, end)`, halved where Salesforce finds more than its 600,000-id limit.
    /// - Returns: Salesforce's `latestDateCovered`: where the next check starts.
    /// - Throws: ``DeletesUnavailable`` when getDeleted cannot cover the window (the object does not support it,
    ///   the window is older than Salesforce keeps, or deletions were purged from its log since `start`).
    func readDeleted(from start: Date, to end: Date, into records: inout [DeletedRecord]) throws -> Date {
        let answer: DeletedRecords
        do {
            answer = try client.deletedRecords(of: job.object, from: start, to: end)
        } catch let error as SalesforceError where error.errorCode == "EXCEEDED_ID_LIMIT" {
            // Salesforce works in whole minutes: a window of one minute cannot be narrowed further.
            let middle = Date(timeIntervalSince1970: (start.timeIntervalSince1970 + end.timeIntervalSince1970) / 2).wholeMinute
            guard middle > start.wholeMinute, middle < end else { throw DeletesUnavailable(reason: "EXCEEDED_ID_LIMIT in one minute") }
            let first = try readDeleted(from: start, to: middle, into: &records)
            return first < middle ? first : try readDeleted(from: middle, to: end, into: &records)
        } catch let error as SalesforceError where error.code == .http && (400..<500).contains(error.httpStatus ?? 0) {
            throw DeletesUnavailable(reason: error.errorCode ?? "HTTP \(error.httpStatus ?? 0)")
        }
        if let earliest = answer.earliestDateAvailable, earliest > start.wholeMinute {
            throw DeletesUnavailable(reason: "deletions since the last check were purged (earliestDateAvailable)")
        }
        records += answer.records
        return min(answer.latestDateCovered ?? end.wholeMinute, end)
    }

    /// A Bulk query of the key only, submitted now and waited for; its keys are staged in the transaction.
    private func prepareKeySweep() throws {
        let plan = try SyncPlan.columns(of: job, fields: [job.key])
        let keys = BulkJobs(client: client, plan: plan, logger: logger, record: record)
        keys.signature = "keys " + plan.signature
        keyJobs = keys
        try keys.create(SplitRanges(boundaries: []))
        try keys.waitForAll(resplitting: nil, cancellation: cancellation)
        guard let snapshot = keys.earliestCreation else {
            throw SyncError("job '\(job.name)': Salesforce did not say when the key sweep's Bulk job was created")
        }
        // Records changed shortly before the snapshot may commit after it: the next check re-reads that overlap.
        found = .keys(coveredUntil: snapshot.addingTimeInterval(-Double(job.overlapSeconds)))
    }

    /// In the run's transaction: stages getDeleted's records or the key sweep's keys into `run`.
    /// - Returns: what the commit applies; nil when no check was due.
    func stage(
        into run: LoadRun, download: (QueryJob, PageLoader) throws -> DownloadSummary
    ) throws -> DeletesCheck? {
        switch found {
        case nil:
            return nil
        case .deleted(let records, let covered):
            try run.stageDeletedRecords(
                ids: records.map(\.id), deletedDates: records.map { $0.deletedDate.map(formatTimestamp) })
            logger.info("deletes check: getDeleted", metadata: ["sync.deleted_ids": "\(records.count)"])
            return .deletedRecords(coveredUntil: formatTimestamp(covered))
        case .keys(let covered):
            guard let keyJobs else { return nil }
            let sink = try run.keySweepSink()
            let loader = PageLoader(run: sink, logger: logger)
            var evidence = Reconciliation(expected: keyJobs.expectedRecords, downloaded: 0, pages: 0)
            for done in keyJobs.completed {
                let part = try download(done, loader)
                evidence.downloaded! += part.records
                evidence.pages! += part.pages
            }
            // Keys lost on the way would read as deletes: the sweep runs only on a complete key set.
            try evidence.prove(stagedRows: sink.stagedRows, jobName: job.name, what: "key sweep")
            logger.info("deletes check: key sweep", metadata: ["sync.keys": "\(sink.stagedRows)"])
            return .keySweep(coveredUntil: formatTimestamp(covered))
        }
    }

    /// The run failed: aborts and deletes the key sweep's Bulk jobs and forgets them (recorded with `data`'s).
    func abandon(after data: BulkJobs, store: SyncStore) {
        guard let keyJobs, !keyJobs.ids.isEmpty else { return }
        let recorded = (data.ids + keyJobs.ids).joined(separator: ",")
        keyJobs.abandonAll()
        try? store.forgetInFlightBulkJob(recorded, jobName: job.name)
    }
}

extension SyncRunner {
    /// The deletes check of a pass: only an incremental run of the whole object checks (a full run's sweep judges
    /// deletes itself); nil otherwise.
    func deletesCheckPass(
        _ job: JobDefinition, scope: RunScope, plan: SyncPlan, logger: Logger,
        record: @escaping (_ ids: [String], _ signature: String) throws -> Void
    ) -> DeletesCheckPass? {
        guard case .object = scope, plan.mode == .incremental else { return nil }
        return DeletesCheckPass(
            job: job, client: client, logger: logger, cancellation: cancellation,
            replicateable: try? fieldCheck.describe(job.object).replicateable, record: record)
    }
}

/// getDeleted cannot cover the window: the check falls back to a key sweep.
struct DeletesUnavailable: Error {
    var reason: String
}

extension BulkJobs {
    /// When Salesforce created the earliest of the live jobs (its clock); nil when it did not say for one of them.
    var earliestCreation: Date? {
        if readsThroughREST { return restSnapshot.flatMap(parseTimestamp) }
        let dates = zip(live, completed).map { job, done in done.createdDate ?? job.createdDate }
        guard !dates.isEmpty, !dates.contains(where: { $0 == nil }) else { return nil }
        return dates.compactMap { $0 }.min()
    }
}

extension Date {
    /// The start of this instant's minute: getDeleted's windows are whole minutes.
    var wholeMinute: Date { Date(timeIntervalSince1970: (timeIntervalSince1970 / 60).rounded(.down) * 60) }
}
