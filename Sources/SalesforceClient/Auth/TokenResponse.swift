/// A successful answer of `POST /services/oauth2/token`.
///
/// Only what the client uses is read; `issued_at` (a string of epoch milliseconds), `signature`, `scope` and
/// `api_instance_url` may come too and are ignored (`api_instance_url` is deliberately not trusted).
struct TokenResponse: Decodable {
    /// The bearer token; never logged or put in an error.
    var accessToken: String?
    /// The API host every later request goes to (checked by ``URLPolicy/checkHost(_:what:allowAnyHost:allowPath:)``).
    var instanceURL: String?
    /// Present when the Connected App rotates refresh tokens: the successor of the one just presented.
    var refreshToken: String?
    /// The identity URL, `https://login.salesforce.com/id/<orgId>/<userId>`: which org the token belongs to.
    var identityURL: String?

    private enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", instanceURL = "instance_url", refreshToken = "refresh_token"
        case identityURL = "id"
    }

    init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = json.lenientString(.accessToken)
        instanceURL = json.lenientString(.instanceURL)
        refreshToken = json.lenientString(.refreshToken)
        identityURL = json.lenientString(.identityURL)
    }
}
