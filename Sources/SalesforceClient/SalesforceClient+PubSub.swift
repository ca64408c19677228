/// What Salesforce's Pub/Sub API authenticates a call by (its `accesstoken`, `instanceurl` and `tenantid` metadata).
/// Printing it never shows the token.
public struct PubSubAuthentication: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public let accessToken: String
    public let instanceURL: String
    /// The org's Id.
    public let tenantId: String

    public init(accessToken: String, instanceURL: String, tenantId: String) {
        (self.accessToken, self.instanceURL, self.tenantId) = (accessToken, instanceURL, tenantId)
    }

    public var description: String { "Pub/Sub authentication for org \(tenantId) on \(instanceURL)" }
    public var debugDescription: String { description }
}

extension SalesforceClient {
    /// This client's session as Pub/Sub call metadata, logging in first if needed.
    ///
    /// - Parameter renew: log in again first, after the Pub/Sub API refused the token (an expired session); a fixed
    ///   `SF_ACCESS_TOKEN` cannot be renewed and is returned as it is.
    /// - Throws: what ``authenticate()`` and ``organizationId()`` throw.
    public func pubSubAuthentication(renew: Bool = false) throws -> PubSubAuthentication {
        if renew, case .accessToken = configuration.grant {} else if renew { session = nil }
        let org = try organizationId()
        guard let session else { throw SalesforceError(code: .authentication, message: "No Salesforce session.") }
        return PubSubAuthentication(accessToken: session.accessToken, instanceURL: session.instanceURL, tenantId: org.value)
    }
}
