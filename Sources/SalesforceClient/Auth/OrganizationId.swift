/// An org's Id as Salesforce gives it (18 characters in the identity URL and userinfo), compared the way
/// Salesforce means it: a 15-character Id is case-sensitive, its 18-character form adds 3 characters that encode
/// the case, so the 18-character form is compared case-insensitively and a 15-character one by its exact
/// characters.
public struct OrganizationId: Sendable, Hashable, CustomStringConvertible {
    /// The Id exactly as Salesforce sent it (or as it was recorded).
    public let value: String

    public init(_ value: String) { self.value = value }

    /// The org Id in an identity URL (`https://login.salesforce.com/id/<orgId>/<userId>`); nil when the URL
    /// does not have that shape.
    public init?(identityURL: String) {
        let parts = identityURL.split(separator: "/", omittingEmptySubsequences: true)
        guard let marker = parts.lastIndex(of: "id"), marker + 1 < parts.count else { return nil }
        let org = String(parts[marker + 1])
        guard org.count == 15 || org.count == 18, org.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) })
        else { return nil }
        self.value = org
    }

    /// Whether both name the same org (a 15-character and an 18-character Id of one org are the same).
    public func sameOrg(as other: OrganizationId) -> Bool {
        if value.count == 18 && other.value.count == 18 { return value.lowercased() == other.value.lowercased() }
        return value.prefix(15) == other.value.prefix(15)
    }

    public var description: String { value }
}
