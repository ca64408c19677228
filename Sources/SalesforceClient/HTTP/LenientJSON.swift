import Foundation

/// Reads Salesforce JSON into `Decodable` values, liberally: the reference marks much of the wire as UNCONFIRMED
/// (salesforce-api.md), and real orgs add keys between releases. Extra keys are ignored, `null` reads as absent,
/// numbers and strings stand in for each other, and one malformed element of a list is skipped instead of
/// failing the whole answer.
enum LenientJSON {
    /// Decodes `bytes` as `type`, or throws `.protocolViolation` naming `what` was being read. A
    /// ``SalesforceError`` thrown by a type's own `init(from:)` comes through unchanged.
    static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8], what: String) throws -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(bytes))
        } catch let error as SalesforceError {
            throw error
        } catch let error as DecodingError {
            throw SalesforceError(
                code: .protocolViolation,
                message: "Salesforce sent a \(what) that \(reason(error)) (\(bytes.count) bytes).")
        }
    }

    /// Encodes a request body with sorted keys, so a body is the same bytes every time.
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    /// What was wrong, in words: the key or the place, never the body's contents (it may hold data or secrets).
    private static func reason(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "lacks '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            "is not the expected JSON at '\(path(context.codingPath))'"
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            "is not the expected JSON at '\(path(context.codingPath))'"
        default: "is not JSON"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// A list element that may fail to decode: `[Lenient<T>]` keeps the elements that did (`compactMap(\.value)`).
struct Lenient<Value: Decodable>: Decodable {
    var value: Value?

    init(from decoder: any Decoder) throws {
        value = try? Value(from: decoder)
    }
}

extension KeyedDecodingContainer {
    /// A string, or a number written as one; `nil` when absent, `null` or of another type.
    func lenientString(_ key: Key) -> String? {
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text }
        if let number = try? decodeIfPresent(Int.self, forKey: key) { return String(number) }
        if let number = try? decodeIfPresent(Double.self, forKey: key) { return String(number) }
        return nil
    }

    /// An API version, sent as a JSON number by Bulk (`59.0`) and as a string by REST: always text like `59.0`.
    func lenientVersion(_ key: Key) -> String? {
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text }
        if let number = try? decodeIfPresent(Double.self, forKey: key) { return String(number) }
        return nil
    }

    /// An integer, or a string or a number with a fraction standing for one (truncated, as Salesforce's own
    /// clients read them); `nil` when absent, `null` or unreadable.
    func lenientInt(_ key: Key) -> Int? {
        if let number = try? decodeIfPresent(Int.self, forKey: key) { return number }
        if let number = try? decodeIfPresent(Double.self, forKey: key), number.isFinite {
            return Int(exactly: number.rounded(.towardZero))
        }
        if let text = try? decodeIfPresent(String.self, forKey: key) {
            return Int(text.trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// `true`/`false`, or those words as strings, or a number (non-zero is true).
    func lenientBool(_ key: Key) -> Bool? {
        if let flag = try? decodeIfPresent(Bool.self, forKey: key) { return flag }
        if let text = try? decodeIfPresent(String.self, forKey: key) { return text.lowercased() == "true" }
        if let number = try? decodeIfPresent(Double.self, forKey: key) { return number != 0 }
        return nil
    }

    /// The elements of a list that decode; anything but a list reads as empty.
    func lenientList<Element: Decodable>(_ type: Element.Type, _ key: Key) -> [Element] {
        ((try? decodeIfPresent([Lenient<Element>].self, forKey: key)) ?? nil)?.compactMap(\.value) ?? []
    }
}

/// Coding keys for any name, for answers keyed by data (`/limits`) or read under several spellings.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
