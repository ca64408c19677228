extension SalesforceClient {
    /// The org this client's session belongs to, authenticating first if needed.
    ///
    /// A login's token response names it (its `id` URL); a fixed `SF_ACCESS_TOKEN` comes without one, so the
    /// org is asked once (`GET /services/oauth2/userinfo` on the instance, which answers `organization_id`).
    /// - Throws: what ``authenticate()`` throws; `.protocolViolation` when userinfo names no org.
    public func organizationId() throws -> OrganizationId {
        if session == nil { try authenticate() }
        if let known = session?.organizationId { return known }
        let response = try send(
            APIRequest(method: .get, target: .instance(URLPolicy.userinfoPath), purpose: .control))
        let answer = try LenientJSON.decode(UserInfo.self, from: response.body, what: "userinfo response")
        guard let org = answer.organizationId.map(OrganizationId.init) ?? answer.sub.flatMap(OrganizationId.init(identityURL:))
        else {
            throw SalesforceError(
                code: .protocolViolation, message: "Salesforce's userinfo answer names no organization_id.")
        }
        session?.organizationId = org
        return org
    }
}

/// The part of `GET /services/oauth2/userinfo` (OpenID Connect names) that says which org a token belongs to.
struct UserInfo: Decodable {
    var organizationId: String?
    /// The identity URL, `…/id/<orgId>/<userId>`.
    var sub: String?

    private enum CodingKeys: String, CodingKey {
        case organizationId = "organization_id", sub
    }

    init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        organizationId = json.lenientString(.organizationId)
        sub = json.lenientString(.sub)
    }
}
