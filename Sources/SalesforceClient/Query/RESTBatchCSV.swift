/// One REST `query`/`queryAll` batch (JSON) rewritten as a Bulk API 2.0 result page (CSV), so objects the Bulk API
/// cannot read go through the same COPY path: the header is the selected fields as written in the SOQL, every value
/// double-quoted with quotes doubled, null (or a relationship that is null) empty, booleans `true`/`false`,
/// numbers as Salesforce wrote them (never through a Double) and dates and datetimes exactly as Salesforce wrote
/// them (REST's `+0000`, which PostgreSQL reads like Bulk's `Z`). Relationship fields (`Account.Name`) are read from
/// the nested records. One batch is held at a time; records are converted one by one as the JSON is scanned.
struct RESTBatchCSV {
    var totalSize: Int?
    var done: Bool?
    var nextRecordsUrl: String?
    var records = 0
    /// The page, header line first; LF after every record, as Bulk writes it by default.
    var csv: [UInt8] = []

    /// - Parameter fields: the SOQL's select list, in order (paths of relationship names and a field).
    /// - Throws: `.protocolViolation` for a body that is not a query batch or a selected value that is not a scalar.
    init(body: [UInt8], fields: [String]) throws {
        let paths = fields.map { $0.lowercased().split(separator: ".").map(String.init) }
        csv.reserveCapacity(body.count)
        for (k, field) in fields.enumerated() {
            if k > 0 { csv.append(44) }
            Self.quote(Array(field.utf8), into: &csv)
        }
        csv.append(10)
        var scanner = JSONScanner(body)
        try scanner.expect(UInt8(ascii: "{"))
        try scanner.members { key, scanner in
            switch key {
            case "records":
                try scanner.expect(UInt8(ascii: "["))
                try scanner.elements { scanner in
                    guard case .object(let record) = try scanner.value() else { throw scanner.failure("a record is not an object") }
                    try append(record, paths: paths, fields: fields)
                }
            case "totalSize": totalSize = Int(String(decoding: try scanner.value().scalar ?? [], as: UTF8.self))
            case "done": done = try scanner.value().scalar.map { $0 == Array("true".utf8) }
            case "nextRecordsUrl":
                nextRecordsUrl = try scanner.value().scalar.map { String(decoding: $0, as: UTF8.self) }
                    .flatMap { $0.isEmpty || $0 == "null" ? nil : $0 }
            default: _ = try scanner.value()
            }
        }
    }

    private mutating func append(_ record: [String: JSONNode], paths: [[String]], fields: [String]) throws {
        for (k, path) in paths.enumerated() {
            if k > 0 { csv.append(44) }
            var node = record[path[0]]
            for name in path.dropFirst() {
                guard case .object(let parent) = node else { node = nil; break }
                node = parent[name]
            }
            switch node {
            case nil, .null?: break
            case .text(let bytes)?: Self.quote(bytes, into: &csv)
            case .object?, .array?:
                throw SalesforceError(
                    code: .protocolViolation,
                    message: "Salesforce sent field \(fields[k]) of a query record as a structure, not a value; "
                        + "compound fields (addresses, locations) cannot be loaded: map their components instead.")
            }
        }
        csv.append(10)
        records += 1
    }

    private static func quote(_ bytes: [UInt8], into out: inout [UInt8]) {
        out.append(34)
        for byte in bytes {
            if byte == 34 { out.append(34) }
            out.append(byte)
        }
        out.append(34)
    }
}

/// A JSON value as the converter needs it: scalars keep their text (strings decoded, numbers and booleans as
/// written), object keys lower-cased (Salesforce's JSON spells names as describe does, the SOQL as the user did).
indirect enum JSONNode {
    case null
    case text([UInt8])
    case object([String: JSONNode])
    case array([JSONNode])

    var scalar: [UInt8]? {
        if case .text(let bytes) = self { return bytes }
        return nil
    }
}

/// A small JSON reader over one batch's bytes.
struct JSONScanner {
    let bytes: [UInt8]
    var i = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func failure(_ what: String) -> SalesforceError {
        SalesforceError(
            code: .protocolViolation,
            message: "Salesforce sent a query batch that is not valid JSON: \(what) at byte \(i) of \(bytes.count).")
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 10 || bytes[i] == 13 || bytes[i] == 9 { i += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard i < bytes.count, bytes[i] == byte else { throw failure("expected '\(Character(Unicode.Scalar(byte)))'") }
        i += 1
    }

    /// Whether the next byte is `byte` (consumed if so).
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    /// After `{`: each member's key and the scanner positioned at its value, through the closing `}`.
    mutating func members(_ each: (String, inout JSONScanner) throws -> Void) throws {
        if take(UInt8(ascii: "}")) { return }
        repeat {
            skipSpace()
            let key = String(decoding: try string(), as: UTF8.self)
            try expect(UInt8(ascii: ":"))
            try each(key, &self)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// After `[`: the scanner positioned at each element, through the closing `]`.
    mutating func elements(_ each: (inout JSONScanner) throws -> Void) throws {
        if take(UInt8(ascii: "]")) { return }
        repeat { try each(&self) } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    mutating func value() throws -> JSONNode {
        skipSpace()
        guard i < bytes.count else { throw failure("the body ends early") }
        switch bytes[i] {
        case UInt8(ascii: "\""): return .text(try string())
        case UInt8(ascii: "{"):
            i += 1
            var object: [String: JSONNode] = [:]
            try members { key, scanner in object[key.lowercased()] = try scanner.value() }
            return .object(object)
        case UInt8(ascii: "["):
            i += 1
            var array: [JSONNode] = []
            try elements { array.append(try $0.value()) }
            return .array(array)
        default:
            let start = i
            while i < bytes.count, !",}] \n\r\t".utf8.contains(bytes[i]) { i += 1 }
            let token = Array(bytes[start..<i])
            if token == Array("null".utf8) { return .null }
            guard !token.isEmpty else { throw failure("expected a value") }
            return .text(token)
        }
    }

    /// A string at the current position, unescaped, as UTF-8.
    mutating func string() throws -> [UInt8] {
        guard i < bytes.count, bytes[i] == 34 else { throw failure("expected a string") }
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let byte = bytes[i]
            i += 1
            if byte == 34 { return out }
            guard byte == 92 else { out.append(byte); continue }
            guard i < bytes.count else { break }
            let escaped = bytes[i]
            i += 1
            switch escaped {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
            default: out.append(escaped)
            }
        }
        throw failure("a string does not end")
    }

    /// `\uXXXX` (after the `u`), with a following low surrogate when it is a high one; a lone surrogate becomes U+FFFD.
    private mutating func unicodeEscape() throws -> [UInt8] {
        var unit = try hex4()
        if (0xD800..<0xDC00).contains(unit), i + 1 < bytes.count, bytes[i] == 92, bytes[i + 1] == UInt8(ascii: "u") {
            i += 2
            let low = try hex4()
            unit = (0xDC00..<0xE000).contains(low) ? 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00) : 0xFFFD
        }
        return Array(String(Character(Unicode.Scalar(unit) ?? "\u{FFFD}")).utf8)
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16)
        else { throw failure("a \\u escape is not four hex digits") }
        i += 4
        return value
    }
}
