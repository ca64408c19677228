import Foundation

/// An Avro schema parsed from its JSON text, such as the writer schema Pub/Sub API's `GetSchema` returns.
///
/// A named type is inlined wherever it is referenced, so callers walk one tree of ``AvroType``. Only a reference to a
/// type from inside its own definition (a recursive type) stays ``AvroType/reference(_:)``, resolved through
/// ``namedTypes``. Logical types, defaults, aliases and docs are ignored: a value decodes as its underlying type.
///
/// ```swift
/// let schema = try AvroSchema(json: response.schemaJSON)
/// let event = try AvroDecoder.decode(payload, schema: schema)
/// ```
public struct AvroSchema: Sendable, Equatable {
    /// The top-level type; a record for Pub/Sub events.
    public let root: AvroType
    /// Every named type (record, enum, fixed) by its full name, such as `com.sforce.eventbus.ChangeEventHeader`.
    public let namedTypes: [String: AvroType]

    /// Parses a schema.
    /// - Throws: ``AvroError`` with code `invalidSchema`, naming the JSON path of the problem.
    public init(json: String) throws(AvroError) {
        try self.init(json: Data(json.utf8))
    }

    /// Parses a schema from UTF-8 JSON bytes.
    public init(json: Data) throws(AvroError) {
        let document: JSON
        do {
            document = try JSONDecoder().decode(JSON.self, from: json)
        } catch {
            throw AvroError(code: .invalidSchema, message: "The schema is not valid JSON (\(error)).")
        }
        var parser = SchemaParser()
        root = try parser.type(document, namespace: "", path: "schema")
        namedTypes = parser.named
    }
}

/// One Avro type.
public indirect enum AvroType: Sendable, Equatable {
    case null, boolean, int, long, float, double, bytes, string
    case record(AvroRecord)
    case enumeration(name: String, symbols: [String])
    case array(items: AvroType)
    case map(values: AvroType)
    case union([AvroType])
    case fixed(name: String, size: Int)
    /// A named type used inside its own definition, by full name; look it up in ``AvroSchema/namedTypes``.
    case reference(String)

    /// The record this type holds, looking through a union such as `["null", Address]` (a nullable compound field).
    public var record: AvroRecord? {
        switch self {
        case .record(let record): record
        case .union(let branches): branches.lazy.compactMap(\.record).first
        default: nil
        }
    }
}

/// A record type: its full name and its fields in schema order (the order Salesforce's field bitmaps count in).
public struct AvroRecord: Sendable, Equatable {
    /// The full name, such as `com.sforce.eventbus.ContactChangeEvent`.
    public let name: String
    /// The fields in schema order.
    public let fields: [AvroField]
}

/// A field of a record.
public struct AvroField: Sendable, Equatable {
    /// The field's name, as in the event (`MailingAddress`).
    public let name: String
    /// The field's type; a nullable field is a union with `null`.
    public let type: AvroType
}

/// JSON as parsed by `JSONDecoder`, kept private so no `Any` reaches callers.
private enum JSON: Decodable {
    case string(String), number(Double), bool(Bool), null, array([JSON]), object([String: JSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode([JSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSON].self))
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
}

/// Resolves names as the Avro specification's "Names" section says: a dotted name is a full name; otherwise the
/// `namespace` attribute, else the namespace of the enclosing named type, qualifies it.
private struct SchemaParser {
    static let primitives: [String: AvroType] = [
        "null": .null, "boolean": .boolean, "int": .int, "long": .long,
        "float": .float, "double": .double, "bytes": .bytes, "string": .string,
    ]
    var named: [String: AvroType] = [:]
    /// Types whose definition is being parsed: a reference to one of them is recursive and cannot be inlined.
    var defining: Set<String> = []

    mutating func type(_ json: JSON, namespace: String, path: String) throws(AvroError) -> AvroType {
        switch json {
        case .string(let name):
            return try resolve(name, namespace: namespace, path: path)
        case .array(let branches):
            var types: [AvroType] = []
            for (index, branch) in branches.enumerated() {
                types.append(try type(branch, namespace: namespace, path: "\(path)[\(index)]"))
            }
            return .union(types)
        case .object(let object):
            return try complex(object, namespace: namespace, path: path)
        default:
            throw invalid(path, "expected a type name, a type object or a union array")
        }
    }

    private mutating func complex(_ object: [String: JSON], namespace: String, path: String) throws(AvroError)
        -> AvroType
    {
        guard let kind = object["type"]?.string else {
            guard let inner = object["type"] else { throw invalid(path, "the object has no \"type\"") }
            return try type(inner, namespace: namespace, path: path + ".type")
        }
        switch kind {
        case "record", "error":
            return try define(object, namespace: namespace, path: path) { parser, fullName, space throws(AvroError) in
                .record(AvroRecord(name: fullName, fields: try parser.fields(object, namespace: space, path: fullName)))
            }
        case "enum":
            guard case .array(let symbols)? = object["symbols"], symbols.allSatisfy({ $0.string != nil }) else {
                throw invalid(path, "an enum needs \"symbols\", an array of strings")
            }
            return try define(object, namespace: namespace, path: path) { _, fullName, _ in
                .enumeration(name: fullName, symbols: symbols.compactMap(\.string))
            }
        case "fixed":
            guard case .number(let size)? = object["size"], size >= 0, size < 2_147_483_648, size == size.rounded()
            else {
                throw invalid(path, "a fixed type needs \"size\", a non-negative integer")
            }
            return try define(object, namespace: namespace, path: path) { _, fullName, _ in
                .fixed(name: fullName, size: Int(size))
            }
        case "array", "map":
            let key = kind == "array" ? "items" : "values"
            guard let inner = object[key] else { throw invalid(path, "an \(kind) needs \"\(key)\"") }
            let element = try type(inner, namespace: namespace, path: "\(path).\(key)")
            return kind == "array" ? .array(items: element) : .map(values: element)
        default:
            // `{"type": "long", "logicalType": "timestamp-millis"}` and `{"type": "Address"}` name a type.
            return try resolve(kind, namespace: namespace, path: path)
        }
    }

    private mutating func fields(_ object: [String: JSON], namespace: String, path: String) throws(AvroError)
        -> [AvroField]
    {
        guard case .array(let list)? = object["fields"] else { throw invalid(path, "a record needs \"fields\"") }
        var fields: [AvroField] = []
        for (index, field) in list.enumerated() {
            guard case .object(let attributes) = field, let name = attributes["name"]?.string,
                let fieldType = attributes["type"]
            else { throw invalid("\(path).fields[\(index)]", "a field needs a \"name\" and a \"type\"") }
            fields.append(
                AvroField(name: name, type: try type(fieldType, namespace: namespace, path: path + "." + name)))
        }
        return fields
    }

    private mutating func define(
        _ object: [String: JSON], namespace: String, path: String,
        _ build: (inout SchemaParser, _ fullName: String, _ namespace: String) throws(AvroError) -> AvroType
    ) throws(AvroError) -> AvroType {
        guard let name = object["name"]?.string, !name.isEmpty else {
            throw invalid(path, "a named type needs \"name\"")
        }
        let dot = name.lastIndex(of: ".")
        let space = dot.map { String(name[..<$0]) } ?? object["namespace"]?.string ?? namespace
        let fullName = dot != nil || space.isEmpty ? name : space + "." + name
        guard named[fullName] == nil, !defining.contains(fullName) else {
            throw invalid(path, "the type \"\(fullName)\" is defined twice; refer to it by name after the first time")
        }
        defining.insert(fullName)
        let type = try build(&self, fullName, space)
        defining.remove(fullName)
        named[fullName] = type
        return type
    }

    private func resolve(_ name: String, namespace: String, path: String) throws(AvroError) -> AvroType {
        if let primitive = Self.primitives[name] { return primitive }
        let fullName = name.contains(".") || namespace.isEmpty ? name : namespace + "." + name
        // The bare name is a fallback for schemas that refer to a type of the null namespace from inside another one.
        for candidate in [fullName, name] {
            if defining.contains(candidate) { return .reference(candidate) }
            if let type = named[candidate] { return type }
        }
        throw invalid(
            path,
            "unknown type \"\(name)\" (looked up as \"\(fullName)\"); a named type must be defined before it is used")
    }

    private func invalid(_ path: String, _ problem: String) -> AvroError {
        AvroError(code: .invalidSchema, message: "Invalid Avro schema at \(path): \(problem).", path: path)
    }
}
