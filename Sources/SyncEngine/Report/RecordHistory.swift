import PostgresLoader

/// One `sfpg.changes` row: what a run did to one record.
public struct RecordChange: Codable, Sendable, Equatable {
    public struct Column: Codable, Sendable, Equatable {
        public var column: String
        /// The values as JSON text (`"a@b.c"`, `12.5`, `true`); nil for JSON null.
        public var old: String?
        public var new: String?

        public init(column: String, old: String?, new: String?) {
            self.column = column
            self.old = old
            self.new = new
        }
    }

    public var runId: Int64?
    public var operation: String
    public var systemModstamp: String?
    public var recordedAt: String
    public var changes: [Column]
}

/// Reads a record's audit trail for `sfpg history`.
public enum RecordHistory {
    /// Every change of `key` in `job`, oldest first; columns in name order.
    public static func load(_ connection: PostgresConnection, job: String, key: String) throws -> [RecordChange] {
        let result = try SyncStore(connection).changes(jobName: job, recordKey: key)
        var entries: [RecordChange] = []
        var lastId: String?
        for row in 0..<result.rows.count {
            let id = result[row, "id"]
            if id != lastId {
                lastId = id
                entries.append(RecordChange(
                    runId: result[row, "run_id"].flatMap { Int64($0) }, operation: result[row, "operation"] ?? "?",
                    systemModstamp: result[row, "modstamp"], recordedAt: result[row, "recorded"] ?? "?", changes: []))
            }
            if let column = result[row, "col"] {
                entries[entries.count - 1].changes.append(
                    RecordChange.Column(column: column, old: result[row, "old"], new: result[row, "new"]))
            }
        }
        return entries
    }
}
