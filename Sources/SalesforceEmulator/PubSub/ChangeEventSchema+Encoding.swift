import CivilTime

/// `ChangeEventHeader.changeType`, in the order of Salesforce's `ChangeType` enum.
enum ChangeKind: String, CaseIterable, Sendable {
    case create = "CREATE", update = "UPDATE", delete = "DELETE", undelete = "UNDELETE"
    case gapCreate = "GAP_CREATE", gapUpdate = "GAP_UPDATE", gapDelete = "GAP_DELETE", gapUndelete = "GAP_UNDELETE"
    case gapOverflow = "GAP_OVERFLOW", snapshot = "SNAPSHOT"

    var gap: ChangeKind {
        switch self {
        case .create: .gapCreate
        case .delete: .gapDelete
        case .undelete: .gapUndelete
        default: .gapUpdate
        }
    }
}

/// What one change event says about its change, besides field values (object field indices, not bitmaps).
struct ChangeHeader: Sendable {
    var kind: ChangeKind
    var recordIds: [String]
    var commitTimestamp: Int64
    var commitNumber: Int64
    var transactionKey: String
    var commitUser: String
    var changed: [Int] = []
    var nulled: [Int] = []
}

extension ChangeEventSchema {
    /// The Avro binary payload of one event. `values` holds the text (as the CSV has it) of the fields the event
    /// carries; every other field is null.
    func encode(_ header: ChangeHeader, values: [Int: String]) -> [UInt8] {
        var w = AvroWriter()
        w.string(entity)
        w.strings(header.recordIds)
        w.long(Int64(ChangeKind.allCases.firstIndex(of: header.kind) ?? 0))
        w.string("com/salesforce/api/rest/62.0;client=sfpg-emulator")
        w.string(header.transactionKey)
        w.long(1)
        w.long(header.commitTimestamp)
        w.long(header.commitNumber)
        w.string(header.commitUser)
        w.strings(bitmaps(header.nulled))
        w.strings([])
        w.strings(bitmaps(header.changed))
        for slot in slots {
            let scalars = slot.parts.map { part in values[part.field].flatMap { Self.scalar($0, part.kind) } }
            if slot.compoundType == nil {
                Self.write(scalars[0], to: &w)
                continue
            }
            let present = scalars.contains { $0 != nil }
            w.optional(present)
            if present { scalars.forEach { Self.write($0, to: &w) } }
        }
        return w.bytes
    }

    /// Salesforce's field bitmaps: `0x…` with bit p set for the field at position p of the event record (the header
    /// is 0), and `{position}-0x…` for the nested fields of the compound field at that position.
    func bitmaps(_ fields: [Int]) -> [String] {
        var top: [Int] = [], nested: [Int: [Int]] = [:]
        for f in fields {
            guard let position = positions[f] else { continue }
            if let part = position.part { nested[position.slot, default: []].append(part) } else { top.append(position.slot) }
        }
        return (top.isEmpty ? [] : [Self.hex(top)]) + nested.keys.sorted().map { "\($0)-" + Self.hex(nested[$0] ?? []) }
    }

    private static func hex(_ bits: [Int]) -> String {
        var nibbles = [UInt8](repeating: 0, count: (bits.max() ?? 0) / 4 + 1)
        for bit in bits { nibbles[bit / 4] |= 1 << (bit % 4) }
        return "0x" + nibbles.reversed().map { String($0, radix: 16, uppercase: true) }.joined()
    }

    private enum Scalar { case string(String), bool(Bool), long(Int64), double(Double) }

    /// The Avro value of a field's text, or nil when the text does not fit its type (then it travels as null).
    private static func scalar(_ text: String, _ kind: Kind) -> Scalar? {
        switch kind {
        case .string: .string(text)
        case .boolean: .bool(text == "true")
        case .long: Int64(text).map(Scalar.long) ?? Double(text).map { .long(Int64($0)) }
        case .double: Double(text).map(Scalar.double)
        case .date: Timestamps.parseDate(text).map(Scalar.long)
        case .datetime: Timestamps.parseDatetime(text).map(Scalar.long)
        case .time:
            // HH:mm:ss.SSSZ
            Timestamps.parseDatetime("1970-01-01T" + text).map(Scalar.long)
        }
    }

    private static func write(_ scalar: Scalar?, to w: inout AvroWriter) {
        w.optional(scalar != nil)
        switch scalar {
        case .string(let text): w.string(text)
        case .bool(let value): w.bool(value)
        case .long(let value): w.long(value)
        case .double(let value): w.double(value)
        case nil: break
        }
    }
}
