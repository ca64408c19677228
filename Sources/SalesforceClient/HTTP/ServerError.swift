/// The first `{errorCode, message}` of a REST/Bulk error body (a JSON array), or an OAuth `{error,
/// error_description}` object; `nil` for HTML, empty or unrelated bodies.
struct ServerError: Decodable {
    var errorCode: String?
    var message: String?

    init?(body: [UInt8]) {
        guard !body.isEmpty else { return nil }
        let first: ServerError?
        if let list = try? LenientJSON.decode([Lenient<ServerError>].self, from: body, what: "error body") {
            first = list.first?.value
        } else {
            first = try? LenientJSON.decode(ServerError.self, from: body, what: "error body")
        }
        guard let first, first.errorCode != nil || first.message != nil else { return nil }
        self = first
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        // Clipped: these end up in error messages and logs, which a server must not be able to flood.
        errorCode = (container.lenientString(AnyKey("errorCode")) ?? container.lenientString(AnyKey("error")))
            .map { String($0.prefix(200)) }
        message = (container.lenientString(AnyKey("message")) ?? container.lenientString(AnyKey("error_description")))
            .map { text in text.count > 2_000 ? text.prefix(2_000) + "…" : text }
    }
}
