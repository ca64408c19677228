/// One entry of `GET /limits`.
public struct OrgLimit: Sendable, Equatable {
    /// The org's allowance.
    public var max: Int
    /// What is left of it.
    public var remaining: Int
}

extension OrgLimit: Decodable {
    private enum CodingKeys: String, CodingKey { case max = "Max", remaining = "Remaining" }

    /// Reads `{"Max": …, "Remaining": …}`; per-app sub-objects beside the two numbers are ignored.
    public init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        guard let max = json.lenientInt(.max), let remaining = json.lenientInt(.remaining) else {
            throw DecodingError.keyNotFound(
                CodingKeys.max, .init(codingPath: decoder.codingPath, debugDescription: "a limit without Max/Remaining"))
        }
        self.init(max: max, remaining: remaining)
    }

    /// Reads a `GET /limits` body, keyed by limit name; entries that are not `{Max, Remaining}` are skipped.
    static func limits(fromBody body: [UInt8]) throws -> [String: OrgLimit] {
        try LenientJSON.decode([String: Lenient<OrgLimit>].self, from: body, what: "limits response")
            .compactMapValues(\.value)
    }
}
