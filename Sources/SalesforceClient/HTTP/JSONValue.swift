import Foundation

/// Lenient JSON access: Salesforce bodies are read field by field, tolerating extra keys, numbers where strings
/// are documented (`apiVersion`) and the other way round.
struct JSONObject {
    let storage: [String: Any]

    init(_ storage: [String: Any]) { self.storage = storage }

    /// Parses a JSON object, or throws `.protocolViolation` naming `what` was being read.
    init(parsing bytes: [UInt8], what: String) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw SalesforceError(
                code: .protocolViolation,
                message: "Salesforce sent a \(what) that is not a JSON object (\(bytes.count) bytes).")
        }
        storage = object
    }

    func string(_ key: String) -> String? {
        switch storage[key] {
        case let value as String: value
        case let value as NSNumber: value.stringValue
        default: nil
        }
    }

    func int(_ key: String) -> Int? {
        switch storage[key] {
        case let value as NSNumber: value.intValue
        case let value as String: Int(value)
        default: nil
        }
    }

    func bool(_ key: String) -> Bool? {
        switch storage[key] {
        case let value as NSNumber: value.boolValue
        case let value as String: value == "true"
        default: nil
        }
    }

    func object(_ key: String) -> JSONObject? { (storage[key] as? [String: Any]).map(JSONObject.init) }

    func objects(_ key: String) -> [JSONObject] {
        ((storage[key] as? [Any]) ?? []).compactMap { ($0 as? [String: Any]).map(JSONObject.init) }
    }

    func strings(_ key: String) -> [String] { ((storage[key] as? [Any]) ?? []).compactMap { $0 as? String } }
}

/// The first `{errorCode, message}` of a REST/Bulk error body (a JSON array), or an OAuth `{error,
/// error_description}` object; `nil` for HTML or empty bodies.
struct ServerError {
    var errorCode: String?
    var message: String?

    init?(body: [UInt8]) {
        guard !body.isEmpty, let parsed = try? JSONSerialization.jsonObject(with: Data(body)) else { return nil }
        let first: [String: Any]?
        if let array = parsed as? [Any] {
            first = array.first as? [String: Any]
        } else {
            first = parsed as? [String: Any]
        }
        guard let first else { return nil }
        let object = JSONObject(first)
        // Clipped: these end up in error messages and logs, which a server must not be able to flood.
        errorCode = (object.string("errorCode") ?? object.string("error")).map { String($0.prefix(200)) }
        message = (object.string("message") ?? object.string("error_description")).map { text in
            text.count > 2_000 ? text.prefix(2_000) + "…" : text
        }
        if errorCode == nil && message == nil { return nil }
    }
}
