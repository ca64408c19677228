import CivilTime
import Foundation

/// `<Object>ChangeEvent` as Salesforce derives it from an object: `ChangeEventHeader` first, then the object's fields
/// in order, without `Id` (the header's `recordIds`), `IsDeleted`, `SystemModstamp`, formula and derived fields
/// (Change Data Capture Developer Guide, "Change Event Fields"); address components nested in their compound field
/// (`MailingAddress.City`) and, on objects with a person name, `Salutation`/`FirstName`/`LastName` in `Name`
/// ("Get Compound Fields in Change Events"). Every field is `["null", T]`: dates are `int` days, datetimes `long`
/// epoch milliseconds, times `int` milliseconds of the day.
struct ChangeEventSchema: Sendable {
    enum Kind: Sendable { case string, boolean, long, double, date, datetime, time }
    struct Part: Sendable {
        let name: String, field: Int, kind: Kind
    }
    /// A top-level field after the header: a plain field is one part named like the slot.
    struct Slot: Sendable {
        let name: String
        var parts: [Part]
        let compoundType: String?
    }

    let entity: String
    let slots: [Slot]
    /// Object field index → (position in the event record, part index when nested).
    let positions: [Int: (slot: Int, part: Int?)]
    let json: String
    /// A fingerprint of `json`, as Salesforce's 22-character schema ids are.
    let id: String

    init(_ object: ObjectSchema) {
        entity = object.name
        let personName = object.fields.contains { if case .fullName = $0.recipe { true } else { false } }
        var slots: [Slot] = [], byCompound: [String: Int] = [:]
        for (f, field) in object.fields.enumerated() {
            guard let kind = Self.kind(field) else { continue }
            var compound: (name: String, part: String, type: String)?
            if let name = field.compoundFieldName {
                compound = (name, String(field.name.dropFirst(name.count - "Address".count)), "Address")
            } else if personName, ["Salutation", "FirstName", "LastName"].contains(field.name) {
                compound = ("Name", field.name, "Switchable_PersonName")
            }
            let part = Part(name: compound?.part ?? field.name, field: f, kind: kind)
            guard let compound else {
                slots.append(Slot(name: field.name, parts: [part], compoundType: nil))
                continue
            }
            if let k = byCompound[compound.name] { slots[k].parts.append(part) } else {
                byCompound[compound.name] = slots.count
                slots.append(Slot(name: compound.name, parts: [part], compoundType: compound.type))
            }
        }
        self.slots = slots
        var positions: [Int: (slot: Int, part: Int?)] = [:]
        for (s, slot) in slots.enumerated() {
            for (p, part) in slot.parts.enumerated() {
                positions[part.field] = (s + 1, slot.compoundType == nil ? nil : p)
            }
        }
        self.positions = positions
        json = Self.json(entity: object.name, slots: slots)
        id = Self.fingerprint(json)
    }

    private static func kind(_ field: FieldDefinition) -> Kind? {
        if field.calculated || ["Id", "IsDeleted", "SystemModstamp", "LastActivityDate"].contains(field.name) { return nil }
        switch field.recipe {
        case .fullName, .formulaLabel, .formulaExpected: return nil
        default: break
        }
        switch field.type {
        case .address: return nil
        case .boolean: return .boolean
        case .int, .long: return .long
        case .double, .currency, .percent: return .double
        case .date: return .date
        case .datetime: return .datetime
        case .time: return .time
        default: return .string
        }
    }

    static let header: String = {
        let strings = #"{"type":"array","items":"string"}"#
        let symbols = ChangeKind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ",")
        let fields = [
            ("entityName", #""string""#), ("recordIds", strings),
            ("changeType", #"{"type":"enum","name":"ChangeType","symbols":[\#(symbols)]}"#),
            ("changeOrigin", #""string""#), ("transactionKey", #""string""#), ("sequenceNumber", #""int""#),
            ("commitTimestamp", #""long""#), ("commitNumber", #""long""#), ("commitUser", #""string""#),
            ("nulledFields", strings), ("diffFields", strings), ("changedFields", strings),
        ].map { #"{"name":"\#($0.0)","type":\#($0.1)}"# }
        return #"{"name":"ChangeEventHeader","type":{"type":"record","name":"ChangeEventHeader","fields":["#
            + fields.joined(separator: ",") + "]}}"
    }()

    private static func json(entity: String, slots: [Slot]) -> String {
        func avroType(_ kind: Kind) -> String {
            switch kind {
            case .string: #""string""#
            case .boolean: #""boolean""#
            case .long: #""long""#
            case .double: #""double""#
            case .date: #"{"type":"int","logicalType":"date"}"#
            case .datetime: #"{"type":"long","logicalType":"timestamp-millis"}"#
            case .time: #"{"type":"int","logicalType":"time-millis"}"#
            }
        }
        func field(_ name: String, _ type: String) -> String { #"{"name":"\#(name)","type":["null",\#(type)],"default":null}"# }
        var defined: Set<String> = []
        let fields = slots.map { slot -> String in
            guard let compound = slot.compoundType else { return field(slot.name, avroType(slot.parts[0].kind)) }
            // A named type is defined once; later compound fields of the same type refer to it by name.
            guard defined.insert(compound).inserted else { return field(slot.name, "\"\(compound)\"") }
            let parts = slot.parts.map { field($0.name, avroType($0.kind)) }.joined(separator: ",")
            return field(slot.name, #"{"type":"record","name":"\#(compound)","fields":[\#(parts)]}"#)
        }
        return #"{"type":"record","name":"\#(entity)ChangeEvent","namespace":"com.sforce.eventbus","fields":["#
            + ([header] + fields).joined(separator: ",") + "]}"
    }

    /// 16 bytes of two FNV-1a hashes, base64url without padding.
    private static func fingerprint(_ text: String) -> String {
        var a: UInt64 = 0xCBF2_9CE4_8422_2325, b: UInt64 = 0x6C62_272E_07BB_0142
        for byte in text.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let data = withUnsafeBytes(of: a.bigEndian) { Data($0) } + withUnsafeBytes(of: b.bigEndian) { Data($0) }
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
