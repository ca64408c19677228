import Foundation
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

        enum CodingKeys: String, CodingKey {
            case column, old, new
        }

        // In JSON the values are the stored JSON values themselves (`"new": "a@b.c"`, `"new": true`), not strings
        // holding their JSON text.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            column = try container.decode(String.self, forKey: .column)
            func text(_ key: CodingKeys) throws -> String? {
                let value = try container.decodeIfPresent(JSONValue.self, forKey: key) ?? .null
                return value == .null ? nil : value.text
            }
            old = try text(.old)
            new = try text(.new)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(column, forKey: .column)
            // Text that is not JSON cannot come from jsonb; written as a string rather than lost.
            try container.encode(old.map { JSONValue(text: $0) ?? .string($0) } ?? .null, forKey: .old)
            try container.encode(new.map { JSONValue(text: $0) ?? .string($0) } ?? .null, forKey: .new)
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
        let changes = try ReportSchema.reading { try SyncStore(connection).changeRecords(jobName: job, recordKey: key) }
        for change in changes {
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
