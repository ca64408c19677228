/// A decoded Avro value. A union decodes as the value of its branch, so `["null", "string"]` gives `.null` or
/// `.string`; logical types decode as their underlying type (`timestamp-millis` as `.int` epoch milliseconds).
public indirect enum AvroValue: Sendable, Hashable {
    case null
    case bool(Bool)
    /// An Avro `int` or `long`; `commitNumber` can exceed 2^53, so never convert it through `Double`.
    case int(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])
    case string(String)
    case array([AvroValue])
    /// Map entries in the order they were written.
    case map([AvroEntry])
    /// Record fields in schema order.
    case record([AvroEntry])
    /// An enum value, by symbol.
    case symbol(String)
    case fixed([UInt8])

    /// The value of a record's field, or `nil` when this is not a record or has no such field.
    public subscript(field: String) -> AvroValue? {
        guard case .record(let fields) = self else { return nil }
        return fields.first { $0.name == field }?.value
    }

    /// The text of a `.string` or `.symbol`.
    public var stringValue: String? {
        switch self {
        case .string(let text), .symbol(let text): text
        default: nil
        }
    }

    /// The number of an `.int`.
    public var intValue: Int64? { if case .int(let number) = self { number } else { nil } }

    /// The elements of an `.array`.
    public var arrayValue: [AvroValue]? { if case .array(let elements) = self { elements } else { nil } }
}

/// A record field or map entry with its value.
public struct AvroEntry: Sendable, Hashable {
    public let name: String
    public let value: AvroValue

    public init(name: String, value: AvroValue) {
        (self.name, self.value) = (name, value)
    }
}
