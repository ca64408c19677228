/// One row of a change-event micro-batch: what one event does to one record.
public struct StreamRow: Sendable, Equatable {
    public enum Operation: String, Sendable {
        /// A full image (CREATE): upserted, absent columns NULL.
        case create
        /// Only the columns in `values` change (UPDATE; a soft DELETE sets the deleted flag).
        case update
        /// The row is removed (DELETE of a `deletes: hard` job).
        case delete
    }

    public var operation: Operation
    public var key: String
    /// The event's `commitTimestamp`, ISO-8601 UTC with millis: the row's new modstamp, and what decides whether the
    /// event is older than the row.
    public var modstamp: String
    /// Mapped column → value as PostgreSQL reads it for the column's type (nil: NULL), for each column the event sets.
    public var values: [String: String?]

    public init(_ operation: Operation, key: String, modstamp: String, values: [String: String?] = [:]) {
        (self.operation, self.key, self.modstamp, self.values) = (operation, key, modstamp, values)
    }
}

/// What one applied micro-batch changed, and what it cost.
public struct StreamCounts: Sendable, Equatable {
    public var inserted = 0
    public var updated = 0
    /// Rows removed or marked deleted.
    public var deleted = 0
    /// SQL statements the batch's transaction ran (BEGIN and COMMIT included).
    public var statements = 0

    public init() {}
}

/// Applies micro-batches of change events to a job's table: each batch in one transaction holding its rows, its
/// audit rows and the stream position, so a crash at any point leaves either all of it or none of it.
///
/// A batch is COPYed into a staging table and applied round by round (``LoadPlan/streamStagingDDL``): a handful of
/// set-based statements for a thousand events. An event older than the row (its `commitTimestamp` before the stored
/// modstamp) never overwrites it, and applying the same batch twice changes nothing.
public final class StreamBatch {
    let connection: PostgresConnection
    let store: SyncStore
    let plan: LoadPlan
    /// For the job's state row and its audit rows.
    let jobName: String, objectName: String

    /// - Throws: `PostgresError` `.schema` when the table or a mapped column is missing.
    public init(connection: PostgresConnection, mapping: LoadMapping, jobName: String, objectName: String) throws {
        self.connection = connection
        store = SyncStore(connection)
        plan = try LoadPlan(mapping: mapping, columnTypes: try LoadRun.columnTypes(of: mapping.table, connection))
        (self.jobName, self.objectName) = (jobName, objectName)
    }

    /// The column's type as `format_type` spells it (values are formatted for it).
    public func columnType(_ column: String) -> String? { plan.columnTypes[column] }

    /// Which of `keys` the table holds.
    public func existingKeys(_ keys: [String]) throws -> Set<String> {
        guard !keys.isEmpty else { return [] }
        let result = try connection.execute(plan.existingKeysSQL, [SyncStore.arrayLiteral(keys)])
        return Set(result.rows.compactMap { $0.first ?? nil })
    }

    /// Applies `rows` in order and stores `position`, all in one transaction (rolled back whole on any error).
    public func apply(_ rows: [StreamRow], position: StreamPosition) throws -> StreamCounts {
        var counts = StreamCounts()
        func run(_ sql: String, _ parameters: [String?] = []) throws -> PostgresResult {
            counts.statements += 1
            return try connection.execute(sql, parameters)
        }
        counts.statements += 2
        try connection.withTransaction {
            let rounds = try stage(rows, counts: &counts)
            for round in 0..<rounds {
                let parameter = [String(round)]
                if let audit = plan.mapping.audit {
                    counts.statements += audit.retentionSeconds == nil ? 1 : 2
                    try store.appendChanges(
                        fromQuery: plan.streamAuditSQL, parameters: parameter, runId: nil, jobName: jobName, policy: audit)
                }
                let inserted = try run(plan.streamInsertSQL, parameter).rows
                counts.inserted += inserted.filter { $0.first == "t" }.count
                counts.updated += inserted.count - inserted.filter { $0.first == "t" }.count
                let updated = try run(plan.streamUpdateSQL, parameter).rows
                counts.deleted += updated.filter { $0.first == "t" }.count
                counts.updated += updated.count - updated.filter { $0.first == "t" }.count
                if plan.mapping.deletes == .hard { counts.deleted += try run(plan.streamDeleteSQL, parameter).affectedRows }
            }
            counts.statements += 1
            try store.storeStreamPosition(position, jobName: jobName, objectName: objectName, table: plan.mapping.table)
        }
        return counts
    }

    /// COPYs the rows into the batch's staging table. - Returns: the number of rounds (a key's n-th row is in round n).
    private func stage(_ rows: [StreamRow], counts: inout StreamCounts) throws -> Int {
        guard !rows.isEmpty else { return 0 }
        counts.statements += 2
        try connection.execute(plan.streamStagingDDL)
        var seen: [String: Int] = [:]
        var csv = ""
        let mappings = plan.mapping.allMappings
        for row in rows {
            let round = seen[row.key, default: 0]
            seen[row.key] = round + 1
            var values = row.values
            values[plan.mapping.key.column] = row.key
            values[plan.mapping.modstamp.column] = row.modstamp
            let sets = mappings.indices.filter { values[mappings[$0].column] != nil }.map(String.init)
            let fields = mappings.map { values[$0.column].map { $0.map(Self.csvField) ?? "" } ?? "" }
            csv += "\(round),\(row.operation.rawValue),\"{\(sets.joined(separator: ","))}\"," + fields.joined(separator: ",") + "\n"
        }
        try connection.copyIn(plan.streamCopySQL) { stream in
            var bytes = Array(csv.utf8)
            try bytes.withUnsafeMutableBytes { try stream.write(UnsafeRawBufferPointer($0)) }
        }
        return (seen.values.max() ?? 0)
    }

    static func csvField(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
