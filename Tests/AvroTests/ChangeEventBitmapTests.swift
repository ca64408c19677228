import Avro
import Testing

/// Bitmaps as Salesforce's "Event Deserialization Considerations" documents them:
/// https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html
@Suite("Change event bitmap fields")
struct ChangeEventBitmapTests {
    /// 31 fields F0…F30; F4 and F7 are nullable compound fields with nested fields N0…N4, so the documentation's
    /// example `['0x650004E0','4-0x10','7-0x06']` has a schema to point into.
    static let documentationRecord: AvroRecord = {
        let nested =
            #"{"type":"record","name":"Compound","fields":[\#((0..<5).map { #"{"name":"N\#($0)","type":"int"}"# }.joined(separator: ","))]}"#
        let fields = (0..<31).map { index in
            let type = index == 4 ? #"["null",\#(nested)]"# : index == 7 ? #"["null","Compound"]"# : #""string""#
            return #"{"name":"F\#(index)","type":\#(type)}"#
        }
        let json = #"{"type":"record","name":"Doc","fields":[\#(fields.joined(separator: ","))]}"#
        return try! AvroSchema(json: json).root.record!
    }()

    @Test("the documentation's example: bits count from the least significant one, nested fields by parent position")
    func documentationExample() throws {
        let names = try ChangeEventBitmap.fieldNames(["0x650004E0", "4-0x10", "7-0x06"], in: Self.documentationRecord)
        #expect(names == ["F5", "F6", "F7", "F10", "F24", "F26", "F29", "F30", "F4.N4", "F7.N1", "F7.N2"])
    }

    @Test("the reference's recorded shape 0x410000 marks positions 16 and 22; hex digits are case-insensitive")
    func recordedShape() throws {
        #expect(try ChangeEventBitmap.fieldNames(["0x410000"], in: Self.documentationRecord) == ["F16", "F22"])
        #expect(
            try ChangeEventBitmap.fieldNames(["0x0a", "0X0A"], in: Self.documentationRecord) == [
                "F1", "F3", "F1", "F3",
            ])
        #expect(try ChangeEventBitmap.fieldNames([], in: Self.documentationRecord).isEmpty)
    }

    @Test("a decoded change event's changedFields and nulledFields name its fields")
    func decodedEvent() throws {
        let event = try vector("change event update")
        let schema = try AvroSchema(json: event.schema)
        let header = try #require(AvroDecoder.decode(event.bytes, schema: schema)["ChangeEventHeader"])
        let record = try #require(schema.root.record)
        func names(_ field: String) throws -> [String] {
            try ChangeEventBitmap.fieldNames(header[field]?.arrayValue?.compactMap(\.stringValue) ?? [], in: record)
        }
        #expect(try names("changedFields") == ["Email", "LastModifiedDate", "MailingAddress.City"])
        #expect(try names("nulledFields") == ["Phone"])
        #expect(try names("diffFields") == [])
        // Only nested fields nulled: no top-level element at all.
        #expect(try ChangeEventBitmap.fieldNames(["4-0x01"], in: record) == ["MailingAddress.Street"])
    }

    @Test(
        "malformed entries and positions the schema lacks are errors, not guesses",
        arguments: [
            ("0xZZ", "is not a hexadecimal digit"), ("0x", "must be \"0x\" followed by"), ("12", "must be \"0x\""),
            ("x-0x01", "is not a number"), ("0x80000000", "marks position 31 but Doc has 31 fields"),
            ("2-0x01", "F2, which is not a compound field"), ("4-0x20", "marks position 5 but Compound has 5 fields"),
            ("-0x01", "is not a number"), ("99-0x01", "marks position 99"),
        ])
    func malformed(entry: String, expected: String) {
        let error = #expect(throws: AvroError.self) {
            try ChangeEventBitmap.fieldNames([entry], in: Self.documentationRecord)
        }
        #expect(error?.code == .invalidBitmap)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }
}
