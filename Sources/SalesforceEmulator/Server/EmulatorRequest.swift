/// An aggregated HTTP request as the router sees it.
struct EmulatorRequest: Sendable {
    var method: String
    /// Path without the query string, percent-decoded.
    var path: String
    var rawQuery: String
    var query: [String: String]
    var headers: [(String, String)]
    var body: [UInt8]
    /// Which accepted TCP connection carried the request (1 for the first one; see ``Router/acceptConnection()``).
    var connection = 0

    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }

    init(method: String, uri: String, headers: [(String, String)], body: [UInt8]) {
        self.method = method
        self.headers = headers
        self.body = body
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = FormDecoding.percentDecode(String(parts[0]), plusIsSpace: false)
        rawQuery = parts.count > 1 ? String(parts[1]) : ""
        query = FormDecoding.decode(rawQuery)
    }
}

/// A response, written by the channel handler (paced, or broken on purpose, when a fault says so).
struct EmulatorResponse: Sendable {
    var status: Int
    var headers: [(String, String)] = []
    var body: [UInt8] = []
    var bodyFault: FaultInjector.BodyFault?
    /// Sent with `Transfer-Encoding: chunked` instead of a Content-Length.
    var chunked = false
    /// The JSON the body was written from, so a Bulk endpoint can write it in Bulk's style instead.
    var json: JSONValue?

    /// A compact JSON body, as REST and OAuth write them.
    static func json(_ status: Int, _ value: JSONValue, headers: [(String, String)] = []) -> EmulatorResponse {
        EmulatorResponse(
            status: status, headers: [("Content-Type", "application/json;charset=UTF-8")] + headers,
            body: value.serialized, json: value)
    }

    /// A REST error: a JSON array with one `{"message","errorCode"}` object (Bulk writes `errorCode` first: see
    /// ``bulkStyled()``).
    static func error(_ status: Int, _ code: String, _ message: String) -> EmulatorResponse {
        json(status, .array([.object([("message", .string(message)), ("errorCode", .string(code))])]))
    }

    /// The JSON body pretty-printed, keys in their order; non-JSON responses are unchanged.
    func prettyPrinted() -> EmulatorResponse {
        guard let json else { return self }
        var pretty = self
        pretty.body = json.prettySerialized
        return pretty
    }

    /// The response as Bulk API 2.0 writes it: JSON pretty-printed (Jackson's default style) and error objects with
    /// `errorCode` before `message`. Non-JSON responses are unchanged.
    func bulkStyled() -> EmulatorResponse {
        guard var value = json else { return self }
        if case .array(let items) = value {
            value = .array(items.map { item in
                guard case .object(let members) = item else { return item }
                let code = members.filter { $0.0 == "errorCode" }
                return .object(code + members.filter { $0.0 != "errorCode" })
            })
        }
        var styled = self
        styled.json = value
        return styled.prettyPrinted()
    }

    /// An OAuth error: a flat object.
    static func oauthError(_ error: String, _ description: String, status: Int = 400) -> EmulatorResponse {
        json(status, .object([("error", .string(error)), ("error_description", .string(description))]))
    }
}

/// One request as recorded in the emulator's request log.
public struct RecordedRequest: Sendable, Equatable {
    /// HTTP method, e.g. `GET`.
    public var method: String
    /// Path without the query string.
    public var path: String
    /// Raw query string (empty when none).
    public var query: String
    /// The SOQL of a job this request created, if any.
    public var soql: String?
    /// HTTP status the emulator answered with.
    public var status: Int?
    /// The request's `Accept-Encoding` header, if any.
    public var acceptEncoding: String?
    /// The TCP connection that carried it, numbered in accept order from 1: requests with the same number shared
    /// a connection (keep-alive), a new number means the client opened a new one.
    public var connection = 0
}

/// `application/x-www-form-urlencoded` and query-string decoding.
enum FormDecoding {
    static func decode(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = percentDecode(String(kv[0]), plusIsSpace: true)
            out[key] = kv.count > 1 ? percentDecode(String(kv[1]), plusIsSpace: true) : ""
        }
        return out
    }

    static func percentDecode(_ text: String, plusIsSpace: Bool) -> String {
        var bytes: [UInt8] = []
        var it = Array(text.utf8)[...]
        while let b = it.popFirst() {
            if b == 37, it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else if b == 43 && plusIsSpace {
                bytes.append(32)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
