import Foundation

/// Decodes Avro binary data, as the specification's "Binary Encoding" section defines it, with the schema it was
/// written with. Pub/Sub API payloads are one such datum with no container header.
///
/// Malformed input throws ``AvroError`` (never traps, never reads past the buffer): every length is checked against
/// the bytes left, varints stop at 10 bytes, and item counts and recursion depth are capped by the payload's size.
public enum AvroDecoder {
    /// Decodes one datum that must fill `bytes` exactly.
    ///
    /// ```swift
    /// let event = try AvroDecoder.decode([UInt8](consumerEvent.event.payload), schema: schema)
    /// let ids = event["ChangeEventHeader"]?["recordIds"]?.arrayValue?.compactMap(\.stringValue) ?? []
    /// ```
    /// - Throws: ``AvroError`` naming the schema path and byte offset where decoding failed.
    public static func decode(_ bytes: [UInt8], schema: AvroSchema) throws(AvroError) -> AvroValue {
        var reader = BinaryReader(bytes: bytes, named: schema.namedTypes)
        if case .record(let record) = schema.root {
            reader.path = [.field(String(record.name.split(separator: ".").last ?? ""))]
        }
        let value = try reader.value(schema.root)
        guard reader.offset == bytes.count else {
            throw reader.failure(
                .trailingBytes, at: reader.offset, "\(bytes.count - reader.offset) bytes follow the value")
        }
        return value
    }
}

private struct BinaryReader {
    enum Step { case field(String), index(Int) }

    /// Recursive schemas are the only way to nest deeper than the schema; cap them before the stack runs out.
    static let maximumReferenceDepth = 256

    let bytes: [UInt8]
    let named: [String: AvroType]
    var offset = 0
    var path: [Step] = []
    var referenceDepth = 0
    /// Every array or map item but a zero-size one (null, empty record) takes at least one byte, so a block count
    /// beyond this budget is corrupt; the slack admits arrays of nulls without letting a few bytes claim 2^62 items.
    var itemBudget: Int

    init(bytes: [UInt8], named: [String: AvroType]) {
        (self.bytes, self.named, itemBudget) = (bytes, named, bytes.count + 65_536)
    }

    mutating func value(_ type: AvroType) throws(AvroError) -> AvroValue {
        switch type {
        case .null: return .null
        case .boolean: return try boolean()
        case .int: return .int(try int())
        case .long: return .int(try long())
        case .float: return .float(Float(bitPattern: UInt32(truncatingIfNeeded: try littleEndian(4))))
        case .double: return .double(Double(bitPattern: try littleEndian(8)))
        case .bytes: return .bytes(Array(try take(try length("bytes"))))
        case .string: return .string(try string())
        case .fixed(_, let size): return .fixed(Array(try take(size)))
        case .enumeration(_, let symbols): return .symbol(symbols[try index(below: symbols.count, "enum symbol")])
        case .union(let branches): return try value(branches[try index(below: branches.count, "union branch")])
        case .record(let record): return try self.record(record)
        case .array(let items):
            var elements: [AvroValue] = []
            try blocks { reader throws(AvroError) in elements.append(try reader.value(items)) }
            return .array(elements)
        case .map(let values):
            var entries: [AvroEntry] = []
            try blocks { reader throws(AvroError) in
                entries.append(AvroEntry(name: try reader.string(), value: try reader.value(values)))
            }
            return .map(entries)
        case .reference(let name):
            return try reference(name)
        }
    }

    private mutating func record(_ record: AvroRecord) throws(AvroError) -> AvroValue {
        var entries: [AvroEntry] = []
        entries.reserveCapacity(record.fields.count)
        for field in record.fields {
            path.append(.field(field.name))
            entries.append(AvroEntry(name: field.name, value: try value(field.type)))
            path.removeLast()
        }
        return .record(entries)
    }

    private mutating func reference(_ name: String) throws(AvroError) -> AvroValue {
        guard let type = named[name] else { throw failure(.invalidSchema, at: offset, "the schema lacks \"\(name)\"") }
        guard referenceDepth < Self.maximumReferenceDepth else {
            throw failure(
                .limitExceeded, at: offset, "\"\(name)\" nests over \(Self.maximumReferenceDepth) levels deep")
        }
        referenceDepth += 1
        defer { referenceDepth -= 1 }
        return try value(type)
    }

    /// Arrays and maps are a series of blocks, each a count then that many items, ended by a zero count. A negative
    /// count is followed by the block's size in bytes, which writers add so readers can skip; it is checked here.
    private mutating func blocks(_ item: (inout BinaryReader) throws(AvroError) -> Void) throws(AvroError) {
        var index = 0
        while true {
            let start = offset
            var count = try long()
            if count == 0 { return }
            var size: Int?
            if count < 0 {
                count = count == .min ? .max : -count
                size = try length("block")
            }
            guard count <= itemBudget else {
                throw failure(.limitExceeded, at: start, "a block claims \(count) items, more than the payload holds")
            }
            itemBudget -= Int(count)
            let itemsStart = offset
            for _ in 0..<count {
                path.append(.index(index))
                try item(&self)
                path.removeLast()
                index += 1
            }
            if let size, offset - itemsStart != size {
                throw failure(.invalidLength, at: start, "a block of \(size) bytes holds \(offset - itemsStart)")
            }
        }
    }

    /// A zig-zag varint of at most 10 bytes; the tenth may only carry the 64th bit.
    private mutating func long() throws(AvroError) -> Int64 {
        let start = offset
        var bits: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw failure(.truncated, at: start, "the payload ends in a varint") }
            let byte = bytes[offset]
            guard shift < 63 || byte <= 1 else {
                throw failure(.invalidVarint, at: start, "a varint is longer than 10 bytes or overflows 64 bits")
            }
            offset += 1
            bits |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return Int64(bitPattern: bits >> 1) ^ -Int64(bitPattern: bits & 1) }
            shift += 7
        }
    }

    private mutating func int() throws(AvroError) -> Int64 {
        let start = offset
        let value = try long()
        guard Int64(Int32.min)...Int64(Int32.max) ~= value else {
            throw failure(.invalidVarint, at: start, "an int is out of the 32-bit range")
        }
        return value
    }

    private mutating func boolean() throws(AvroError) -> AvroValue {
        let byte = try littleEndian(1)
        guard byte <= 1 else { throw failure(.invalidValue, at: offset - 1, "a boolean is \(byte), not 0 or 1") }
        return .bool(byte == 1)
    }

    private mutating func string() throws(AvroError) -> String {
        let start = offset
        guard let text = String(bytes: try take(try length("string")), encoding: .utf8) else {
            throw failure(.invalidValue, at: start, "a string is not valid UTF-8")
        }
        return text
    }

    private mutating func index(below count: Int, _ what: String) throws(AvroError) -> Int {
        let start = offset
        let index = try long()
        guard index >= 0, index < count else {
            throw failure(.invalidIndex, at: start, "the \(what) index \(index) is outside the schema's 0..<\(count)")
        }
        return Int(index)
    }

    private mutating func length(_ what: String) throws(AvroError) -> Int {
        let start = offset
        let length = try long()
        guard length >= 0, length <= bytes.count - offset else {
            let left = bytes.count - offset
            throw failure(
                .invalidLength, at: start, "a \(what) length \(length) is negative or over the \(left) bytes left")
        }
        return Int(length)
    }

    private mutating func littleEndian(_ width: Int) throws(AvroError) -> UInt64 {
        try take(width).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    private mutating func take(_ count: Int) throws(AvroError) -> ArraySlice<UInt8> {
        guard count <= bytes.count - offset else {
            throw failure(.truncated, at: offset, "\(count) bytes are needed but \(bytes.count - offset) are left")
        }
        offset += count
        return bytes[(offset - count)..<offset]
    }

    func failure(_ code: AvroError.Code, at start: Int, _ problem: String) -> AvroError {
        let place = path.reduce(into: "") { text, step in
            switch step {
            case .field(let name): text += text.isEmpty ? name : "." + name
            case .index(let index): text += "[\(index)]"
            }
        }
        return AvroError(
            code: code,
            message:
                "Cannot decode the Avro payload at \(place.isEmpty ? "its start" : place), byte \(start): \(problem). "
                + "Decode each event with the schema its schema id names (GetSchema), and check that the payload "
                + "was received whole.",
            path: place, offset: start)
    }
}
