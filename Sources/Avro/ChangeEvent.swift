/// One Change Data Capture event as the stream delivers it and the applier consumes it: the header with its bitmaps
/// expanded to field names, the record's field values, and the replay id to store once the event is applied.
///
/// This is the one contract between the Pub/Sub subscriber (which decodes payloads with the schema fetched by the
/// event's schema id) and whatever applies events to PostgreSQL; neither sees the other's wire or SQL.
public struct ChangeEvent: Sendable, Hashable {
    /// `ChangeEventHeader.changeType`. The `GAP_*` kinds carry no field values: the named records (or the object's
    /// changes over the event's time span) must be re-read; `GAP_OVERFLOW` is Salesforce's overflow event.
    public enum ChangeType: String, Sendable, Hashable, CaseIterable {
        case create = "CREATE", update = "UPDATE", delete = "DELETE", undelete = "UNDELETE"
        case gapCreate = "GAP_CREATE", gapUpdate = "GAP_UPDATE", gapDelete = "GAP_DELETE"
        case gapUndelete = "GAP_UNDELETE", gapOverflow = "GAP_OVERFLOW"

        public var isGap: Bool { rawValue.hasPrefix("GAP_") }
    }

    public var entityName: String
    /// Several records can share one event (a bulk update of identical values).
    public var recordIds: [String]
    public var changeType: ChangeType
    public var changeOrigin: String
    public var transactionKey: String
    public var sequenceNumber: Int64
    /// Epoch milliseconds, Salesforce's clock.
    public var commitTimestamp: Int64
    /// May exceed 2^53: kept as an integer end to end.
    public var commitNumber: Int64
    public var commitUser: String
    /// Field names (`MailingAddress.City` for a nested field), expanded from the header's bitmaps.
    public var changedFields: [String]
    public var nulledFields: [String]
    public var diffFields: [String]
    /// The event record's fields other than `ChangeEventHeader`, by name, as decoded (compound fields are records;
    /// a field absent from a change is `.null`).
    public var fields: [String: AvroValue]
    /// Opaque position in the event bus: store it with the applied rows, resubscribe from it with `CUSTOM`.
    public var replayId: [UInt8]

    public init(
        entityName: String, recordIds: [String], changeType: ChangeType, changeOrigin: String = "",
        transactionKey: String = "", sequenceNumber: Int64 = 1, commitTimestamp: Int64, commitNumber: Int64,
        commitUser: String = "", changedFields: [String] = [], nulledFields: [String] = [], diffFields: [String] = [],
        fields: [String: AvroValue] = [:], replayId: [UInt8]
    ) {
        (self.entityName, self.recordIds, self.changeType, self.changeOrigin) =
            (entityName, recordIds, changeType, changeOrigin)
        (self.transactionKey, self.sequenceNumber, self.commitTimestamp, self.commitNumber, self.commitUser) =
            (transactionKey, sequenceNumber, commitTimestamp, commitNumber, commitUser)
        (self.changedFields, self.nulledFields, self.diffFields) = (changedFields, nulledFields, diffFields)
        (self.fields, self.replayId) = (fields, replayId)
    }

    /// Decodes an event payload with the schema it was written with and expands its bitmaps.
    ///
    /// - Throws: ``AvroError`` when the payload does not match the schema, the header lacks a required field, or a
    ///   bitmap names a position the schema lacks.
    public init(payload: [UInt8], schema: AvroSchema, replayId: [UInt8]) throws(AvroError) {
        let value = try AvroDecoder.decode(payload, schema: schema)
        guard let record = schema.root.record, case .record(let entries) = value,
            let header = value["ChangeEventHeader"]
        else { throw Self.missing("ChangeEventHeader") }
        func text(_ name: String) -> String { header[name]?.stringValue ?? "" }
        func names(_ name: String) throws(AvroError) -> [String] {
            try ChangeEventBitmap.fieldNames(header[name]?.arrayValue?.compactMap(\.stringValue) ?? [], in: record)
        }
        guard let type = ChangeType(rawValue: text("changeType")) else { throw Self.missing("changeType") }
        guard let stamp = header["commitTimestamp"]?.intValue else { throw Self.missing("commitTimestamp") }
        self.init(
            entityName: text("entityName"),
            recordIds: header["recordIds"]?.arrayValue?.compactMap(\.stringValue) ?? [], changeType: type,
            changeOrigin: text("changeOrigin"), transactionKey: text("transactionKey"),
            sequenceNumber: header["sequenceNumber"]?.intValue ?? 0, commitTimestamp: stamp,
            commitNumber: header["commitNumber"]?.intValue ?? 0, commitUser: text("commitUser"),
            changedFields: try names("changedFields"), nulledFields: try names("nulledFields"),
            diffFields: try names("diffFields"),
            fields: Dictionary(
                entries.filter { $0.name != "ChangeEventHeader" }.map { ($0.name, $0.value) },
                uniquingKeysWith: { first, _ in first }),
            replayId: replayId)
    }

    private static func missing(_ what: String) -> AvroError {
        AvroError(
            code: .invalidValue,
            message: "The change event has no valid \(what): it was not written with a change event schema.")
    }
}
