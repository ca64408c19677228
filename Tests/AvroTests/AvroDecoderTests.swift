import Avro
import Testing

/// A schema, the binary datum fastavro wrote for it, and the value it holds (see `GeneratedVectors.swift`).
struct AvroVector: Sendable, CustomTestStringConvertible {
    let name: String
    let schema: String
    let hex: String
    let expected: AvroValue

    init(_ name: String, schema: String, hex: String, expected: AvroValue) {
        (self.name, self.schema, self.hex, self.expected) = (name, schema, hex, expected)
    }

    var testDescription: String { name }
    var bytes: [UInt8] { hexBytes(hex) }
}

func hexBytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map {
        UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
    }
}

func record(_ fields: KeyValuePairs<String, AvroValue>) -> AvroValue {
    .record(fields.map { AvroEntry(name: $0.key, value: $0.value) })
}

func map(_ entries: KeyValuePairs<String, AvroValue>) -> AvroValue {
    .map(entries.map { AvroEntry(name: $0.key, value: $0.value) })
}

func vector(_ name: String) throws -> AvroVector {
    try #require(generatedVectors.first { $0.name == name })
}

/// Expects decoding to fail with `code`, and returns the error for further checks.
@discardableResult
func expectFailure(
    _ code: AvroError.Code, _ hex: String, schema: String, sourceLocation: SourceLocation = #_sourceLocation
)
    throws -> AvroError?
{
    let schema = try AvroSchema(json: schema)
    do {
        let value = try AvroDecoder.decode(hexBytes(hex), schema: schema)
        Issue.record("decoded \(value) instead of failing with \(code)", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        return error
    }
}

@Suite("Avro binary decoding")
struct AvroDecoderTests {
    @Test("decodes what fastavro wrote", arguments: generatedVectors)
    func decodesFastavroVector(_ vector: AvroVector) throws {
        let schema = try AvroSchema(json: vector.schema)
        #expect(try AvroDecoder.decode(vector.bytes, schema: schema) == vector.expected)
    }

    @Test("every cut-short payload throws instead of trapping or reading past the end", arguments: generatedVectors)
    func truncatedPayloadsThrow(_ vector: AvroVector) throws {
        let schema = try AvroSchema(json: vector.schema)
        for length in 0..<vector.bytes.count {
            #expect(throws: AvroError.self) { try AvroDecoder.decode(Array(vector.bytes[..<length]), schema: schema) }
        }
    }

    @Test("a change event's fields are reachable by name; commitNumber keeps all 64 bits")
    func changeEventAccessors() throws {
        let event = try vector("change event update")
        let value = try AvroDecoder.decode(event.bytes, schema: AvroSchema(json: event.schema))
        let header = try #require(value["ChangeEventHeader"])
        #expect(header["changeType"]?.stringValue == "UPDATE")
        #expect(
            header["recordIds"]?.arrayValue?.compactMap(\.stringValue) == ["003xx000004TmiQAAS", "003xx000004TmiRAAS"])
        #expect(header["commitNumber"]?.intValue == 11_223_344_556_677_889)
        #expect(value["MailingAddress"]?["City"] == .string("Bern"))
        #expect(value["Phone"] == .null && value["NoSuchField"] == nil && header["entityName"]?.intValue == nil)
    }

    @Test("lengths beyond the payload and negative lengths are rejected before allocating")
    func oversizedLength() throws {
        let error = try expectFailure(.invalidLength, "feffffff0f6162", schema: #""string""#)
        #expect(
            error?.message.contains("at its start, byte 0: a string length 2147483647 is negative or over the 2 bytes")
                == true)
        #expect(error?.offset == 0)
        try expectFailure(.invalidLength, "01", schema: #""bytes""#)
        try expectFailure(.invalidLength, "03ffffffff0f0000", schema: #"{"type":"array","items":"int"}"#)
    }

    @Test("a negative block whose byte size disagrees with its items is corrupt")
    func blockSizeMismatch() throws {
        try expectFailure(.invalidLength, "030602040000", schema: #"{"type":"array","items":"int"}"#)
    }

    @Test("varints: more than 10 bytes, a 10th byte beyond 64 bits, an int beyond 32 bits, a cut-off varint")
    func malformedVarints() throws {
        try expectFailure(.invalidVarint, "ffffffffffffffffffff01", schema: #""long""#)
        try expectFailure(.invalidVarint, "ffffffffffffffffff02", schema: #""long""#)
        try expectFailure(.invalidVarint, "8080808010", schema: #""int""#)
        try expectFailure(.truncated, "8080", schema: #""long""#)
        try expectFailure(.truncated, "000000000000f0", schema: #""double""#)
    }

    @Test("union and enum indexes outside the schema are rejected, with the path")
    func badIndexes() throws {
        let error = try expectFailure(.invalidIndex, "04", schema: #"["null","string"]"#)
        #expect(error?.message.contains("union branch index 2") == true)
        try expectFailure(.invalidIndex, "01", schema: #"["null","string"]"#)
        try expectFailure(.invalidIndex, "04", schema: #"{"type":"enum","name":"E","symbols":["A","B"]}"#)
    }

    @Test("the error names the field and element where the payload went wrong")
    func errorPath() throws {
        let event = try vector("change event update")
        let schema = try AvroSchema(json: event.schema)
        var corrupt = event.bytes
        // Byte 28 is the length of recordIds[1] (after "Contact", the block count and the first 18-character id).
        try #require(corrupt[28] == 0x24)
        corrupt[28] = 0x01  // zig-zag -1
        let error = #expect(throws: AvroError.self) { try AvroDecoder.decode(corrupt, schema: schema) }
        #expect(error?.path == "ContactChangeEvent.ChangeEventHeader.recordIds[1]", "\(String(describing: error))")
        #expect(error?.description.contains("GetSchema") == true)
    }

    @Test("left-over bytes mean the payload was written with another schema")
    func trailingBytes() throws {
        try expectFailure(.trailingBytes, "0200", schema: #""int""#)
    }

    @Test("invalid UTF-8 and a boolean byte other than 0 or 1 are rejected")
    func invalidValues() throws {
        try expectFailure(.invalidValue, "04c328", schema: #""string""#)
        try expectFailure(.invalidValue, "02", schema: #""boolean""#)
    }

    @Test("a few bytes cannot claim billions of items, nor nest a recursive type without end")
    func limits() throws {
        try expectFailure(.limitExceeded, "feffffffffffffff7f00", schema: #"{"type":"array","items":"null"}"#)
        let node = #"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#
        try expectFailure(.limitExceeded, String(repeating: "02", count: 300) + "00", schema: node)
        let shallow = try AvroSchema(json: node)
        #expect(throws: Never.self) {
            try AvroDecoder.decode(hexBytes(String(repeating: "02", count: 200) + "00"), schema: shallow)
        }
    }

    @Test("random corruption of a change event throws or decodes, never traps")
    func corruptedChangeEvents() throws {
        let event = try vector("change event create")
        let schema = try AvroSchema(json: event.schema)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % 1_000_003)
        }
        for _ in 0..<3000 {
            var corrupt = event.bytes
            for _ in 0...(next() % 3) { corrupt[next() % corrupt.count] = UInt8(truncatingIfNeeded: next()) }
            _ = try? AvroDecoder.decode(corrupt, schema: schema)
        }
    }
}
