extension TableName {
    /// The name as people write it, for reports: `public.salesforce_contacts`; a part keeps its quotes only where
    /// SQL needs them (capitals, spaces, quotes: `crm."Contact List"`). ``init(parsing:)`` reads it back.
    public var displayName: String {
        [schema, name].compactMap { $0 }
            .map { part in Self.isPlain(part) ? part : SQLIdentifier.quote(part) }
            .joined(separator: ".")
    }

    /// A lower-case identifier that PostgreSQL reads the same with or without quotes.
    static func isPlain(_ part: String) -> Bool {
        guard let first = part.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return part.unicodeScalars.allSatisfy { $0 == "_" || $0 == "$" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
