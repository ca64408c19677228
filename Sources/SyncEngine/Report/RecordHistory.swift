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
        var entries: [RecordChange] = []
        var lastId: Int64?
        for change in try SyncStore(connection).changeRecords(jobName: job, recordKey: key) {
            if change.id != lastId {
                lastId = change.id
                entries.append(RecordChange(
                    runId: change.runId, operation: change.operation, systemModstamp: change.systemModstamp,
                    recordedAt: change.recordedAt, changes: []))
            }
            if let column = change.column {
                entries[entries.count - 1].changes.append(RecordChange.Column(column: column, old: change.old, new: change.new))
            }
        }
        return entries
    }
}
