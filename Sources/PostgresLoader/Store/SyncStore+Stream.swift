/// Where a job's change-event stream was applied up to (`sfpg.sync_state.stream_*`).
public struct StreamPosition: Sendable, Equatable {
    /// The Pub/Sub replay id of the last event (or keepalive) applied.
    public var replayId: [UInt8]
    /// The job definition the events were applied for (``JobIdentity``-like digest), to notice an edited job file.
    public var fingerprint: String

    public init(replayId: [UInt8], fingerprint: String) {
        (self.replayId, self.fingerprint) = (replayId, fingerprint)
    }
}

extension SyncStore {
    /// The job's stored stream position; nil when no batch was applied yet or it was forgotten.
    public func streamPosition(jobName: String) throws -> StreamPosition? {
        let result = try connection.execute(
            "SELECT encode(stream_replay_id, 'hex') AS replay, stream_fingerprint FROM sfpg.sync_state WHERE job_name = $1",
            [jobName])
        guard let hex = result.rows.isEmpty ? nil : result[0, "replay"] else { return nil }
        return StreamPosition(replayId: Self.bytes(hex: hex), fingerprint: result[0, "stream_fingerprint"] ?? "")
    }

    /// Stores the position in the caller's transaction (the batch's), creating the job's state row if needed. The
    /// watermark is never touched: it stays the batch pipeline's.
    func storeStreamPosition(_ position: StreamPosition?, jobName: String, objectName: String, table: TableName) throws {
        try connection.execute(
            """
            INSERT INTO sfpg.sync_state AS s (job_name, object_name, target_table, stream_replay_id, stream_applied_at,
                stream_fingerprint, updated_at)
            VALUES ($1, $2, $3, decode($4, 'hex'), CASE WHEN $4 IS NOT NULL THEN now() END, $5, now())
            ON CONFLICT (job_name) DO UPDATE SET stream_replay_id = EXCLUDED.stream_replay_id,
                stream_applied_at = coalesce(EXCLUDED.stream_applied_at, s.stream_applied_at),
                stream_fingerprint = EXCLUDED.stream_fingerprint, updated_at = now()
            """,
            [jobName, objectName, table.quoted, position.map { Self.hex($0.replayId) }, position?.fingerprint])
    }

    /// Forgets the stored position (an expired replay id): the stream restarts from the newest event and its
    /// first batch heals with a batch run.
    public func forgetStreamPosition(jobName: String) throws {
        try connection.execute(
            "UPDATE sfpg.sync_state SET stream_replay_id = NULL, stream_fingerprint = NULL WHERE job_name = $1", [jobName])
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0...$0 + 1], as: UTF8.self), radix: 16) }
    }
}
