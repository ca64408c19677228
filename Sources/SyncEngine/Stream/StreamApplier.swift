import Avro
import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// Where a subscription to a job's change events starts (``StreamApplier/replayStart()``).
public enum ReplayStart: Sendable, Equatable {
    /// `LATEST`: no position stored (the first start, or an expired replay id was forgotten). The first batch then
    /// heals with an incremental batch run, whose snapshot is taken after the subscription began, so no change
    /// falls between the two.
    case latest
    /// `CUSTOM` from the stored replay id: the events after the last one applied.
    case custom([UInt8])
}

/// Why a batch was preceded by an incremental batch run.
public enum CatchUpReason: String, Sendable, Equatable {
    case noPosition = "no stored replay id"
    case jobChanged = "the job file changed since the last batch"
    case overflow = "an overflow event or a gap without record ids"
    case schemaChanged = "the events' fields changed (a field added to or removed from the object)"
}

/// What one ``StreamApplier/apply(_:lastReplayId:)`` did.
public struct ApplyOutcome: Sendable, Equatable {
    /// Events of the job's object in the batch, per change type.
    public var events: [ChangeEvent.ChangeType: Int] = [:]
    /// Rows the batch's transaction changed, and its statement count.
    public var rows = StreamCounts()
    /// Records re-read from Salesforce (diffs, undeletes, unknown rows, gaps) through the run pipeline.
    public var reread = 0
    /// Why an incremental batch run healed the table first; nil when none ran.
    public var catchUp: CatchUpReason?
}

/// Applies a job's Change Data Capture events to its table, one micro-batch per call: the driver of `sfpg serve`'s
/// streaming. The subscriber decodes events into ``ChangeEvent`` values and hands each batch here with the replay id
/// of its last event (or of a keepalive, with no events); the rows, their audit rows and that replay id commit in
/// one transaction, so after a crash the stream resumes from ``replayStart()`` and applies every event once.
///
/// Re-reads and heals go through the one run pipeline: named records as a repair pass through REST (the watermark
/// stays), and an incremental batch run (``SyncRunner/run(_:options:)``) when the stream cannot be trusted alone.
/// Blocking (libpq, libcurl): call it from a thread that may block. Holds the job's lock while it applies, so
/// batch runs and batches serialize.
public final class StreamApplier {
    public let job: JobDefinition
    let runner: SyncRunner
    let batch: StreamBatch
    let rows: StreamRows
    /// The job definition's digest, stored with the position: a changed job file heals with a batch run.
    public let fingerprint: String
    /// The fields of the last event seen; a different set means the object's schema changed.
    private var knownFields: Set<String>?

    /// - Throws: `PostgresError` `.schema` when the job's table or a mapped column is missing.
    public init(
        job: JobDefinition, connection: PostgresConnection, client: SalesforceClient,
        cancellation: CancellationFlag = CancellationFlag(), logger: Logger
    ) throws {
        self.job = job
        runner = SyncRunner(connection: connection, client: client, cancellation: cancellation, logger: logger)
        let batch = try StreamBatch(connection: connection, mapping: job.loadMapping, jobName: job.name, objectName: job.object)
        self.batch = batch
        rows = StreamRows(mapping: job.loadMapping, filtered: job.whereClause != nil, columnType: { batch.columnType($0) })
        fingerprint = Self.fingerprint(of: job)
    }

    /// The replay id of the last batch applied; nil when none is stored.
    public func storedReplayId() throws -> [UInt8]? {
        try runner.store.streamPosition(jobName: job.name)?.replayId
    }

    /// Where the subscriber starts: after the stored replay id, else `LATEST` (see ``ReplayStart/latest``).
    public func replayStart() throws -> ReplayStart {
        try storedReplayId().map { .custom($0) } ?? .latest
    }

    /// Forgets the stored replay id, for when Salesforce refuses it (older than the event retention window): resubscribe
    /// from `LATEST`; the next batch heals with an incremental run.
    public func forgetReplayId() throws {
        try runner.store.forgetStreamPosition(jobName: job.name)
    }

    /// Applies one micro-batch and stores `lastReplayId` with it, in one transaction.
    ///
    /// Events of other objects are skipped. Before the batch, an incremental batch run heals the table when there is
    /// no stored position, the job file changed, an event is `GAP_OVERFLOW` (or a gap without ids), or the events'
    /// fields changed; the records the batch cannot be applied from (``StreamRows/rows(of:known:)``) are re-read.
    /// - Throws: the run's, the re-read's or the database's error; nothing of the batch is stored then, so the caller
    ///   retries it (or restarts from ``replayStart()``).
    @discardableResult
    public func apply(_ events: [ChangeEvent], lastReplayId: [UInt8]) throws -> ApplyOutcome {
        let events = events.filter { $0.entityName.isEmpty || $0.entityName.caseInsensitiveEquals(job.object) }
        var outcome = ApplyOutcome()
        for event in events { outcome.events[event.changeType, default: 0] += 1 }
        if let reason = try catchUpReason(events) {
            outcome.catchUp = reason
            runner.logger.notice("stream: healing with an incremental run", metadata: ["job.name": "\(job.name)", "reason": "\(reason.rawValue)"])
            let run = runner.run(job, options: SyncOptions(lock: .wait))
            if run.status != .success { throw run.failure ?? SyncError(run.error ?? "the healing run failed") }
        }
        try runner.store.withJobLock(job.name, table: job.table, policy: .wait) { state in
            let updated = Set(events.filter { $0.changeType == .update }.flatMap(\.recordIds))
            let (batchRows, rereads) = rows.rows(of: events, known: try batch.existingKeys(Array(updated)))
            outcome.reread = try reread(Array(Set(rereads)).sorted(), state: state)
            outcome.rows = try batch.apply(batchRows, position: StreamPosition(replayId: lastReplayId, fingerprint: fingerprint))
        }
        // Only once applied: a failed batch's retry must still see the schema change and heal.
        if let fields = events.last(where: { !$0.fields.isEmpty })?.fields.keys { knownFields = Set(fields) }
        return outcome
    }

    private func catchUpReason(_ events: [ChangeEvent]) throws -> CatchUpReason? {
        guard let stored = try runner.store.streamPosition(jobName: job.name) else { return .noPosition }
        if stored.fingerprint != fingerprint { return .jobChanged }
        if events.contains(where: { $0.changeType == .gapOverflow || ($0.changeType.isGap && $0.recordIds.isEmpty) }) {
            return .overflow
        }
        let changed = events.contains { event in
            guard let known = knownFields, !event.fields.isEmpty else { return false }
            return Set(event.fields.keys) != known
        }
        return changed ? .schemaChanged : nil
    }

    /// Re-reads the records through the run pipeline (REST, by Id, merged like a run's rows). - Returns: their count.
    private func reread(_ ids: [String], state: JobState) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let options = try OrgCheck(client: runner.client, logger: runner.logger).check(job, state: state, options: SyncOptions())
        for condition in SyncRunner.keyLists(ids, field: "Id") {
            var outcome = JobOutcome(job: job.name, status: .success, seconds: 0)
            try runner.sync(
                job, scope: .repair(condition: condition, sweepsExtras: false, byKey: true), state: state, options: options,
                outcome: &outcome, logger: runner.logger)
        }
        return ids.count
    }

    /// What the stream's rows depend on in the job file; FNV-1a, stable across processes.
    static func fingerprint(of job: JobDefinition) -> String {
        let text = ([job.object, job.table.quoted, job.key, job.watermark, job.deletes.rawValue, job.whereClause ?? ""]
            + job.fields.map { "\($0.source)=\($0.column)" }).joined(separator: "\n")
        let hash = text.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        return String(hash, radix: 16)
    }
}
