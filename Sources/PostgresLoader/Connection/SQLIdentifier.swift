/// Quoting of SQL identifiers. sfpg quotes every identifier it writes into SQL, whatever its spelling.
public enum SQLIdentifier {
    /// `name` as a quoted identifier: `"…"` with every `"` doubled. `we"ird` → `"we""ird"`.
    public static func quote(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }
}

/// Quoting of SQL string literals, for the few values (column names in audit SQL) that cannot be parameters.
public enum SQLLiteral {
    /// `text` as an escape-string literal: `E'…'` with `\` doubled and `'` doubled. A plain `'…'` literal means
    /// different things depending on `standard_conforming_strings` (with it off, a backslash escapes the next
    /// character and a column named `a\'b` would end the literal early); an `E'…'` literal reads the same
    /// whatever the server's, database's or role's setting.
    public static func quote(_ text: String) -> String {
        "E'" + text.replacingAll("\\", with: "\\\\").replacingAll("'", with: "''") + "'"
    }
}

/// A possibly schema-qualified table name.
public struct TableName: Sendable, Hashable, CustomStringConvertible {
    public var schema: String?
    public var name: String

    public init(schema: String?, name: String) {
        self.schema = schema
        self.name = name
    }

    /// Parses `table`, `schema.table`, or the quoted forms `"My Schema"."We""ird"`.
    /// Unquoted parts keep their spelling (sfpg quotes everything later, so `Contacts` means `"Contacts"`).
    /// - Throws: `PostgresError` `.configuration` for an empty name, unbalanced quotes or more than two parts.
    public init(parsing text: String) throws {
        let split = text.splitOutsideQuotes(at: ".")
        let parts = (split ?? []).map { $0.wasQuoted ? $0.text : $0.text.trimmingSpaces() }
        let invalid = split == nil || parts.count > 2 || parts.contains(where: \.isEmpty)
        if invalid {
            throw PostgresError(
                .configuration,
                "invalid table name '\(text)': expected table, schema.table, or a quoted form like \"My Schema\".\"My Table\"")
        }
        if parts.count == 2 {
            self.init(schema: parts[0], name: parts[1])
        } else {
            self.init(schema: nil, name: parts[0])
        }
    }

    /// The quoted, qualified name for SQL: `"public"."salesforce_contacts"`.
    public var quoted: String {
        if let schema { return SQLIdentifier.quote(schema) + "." + SQLIdentifier.quote(name) }
        return SQLIdentifier.quote(name)
    }

    /// The same as `quoted`, which is unambiguous.
    public var description: String { quoted }
}

extension String {
    /// Replaces by Unicode scalar, not by `Character`: a `"` followed by a combining mark is one grapheme cluster
    /// that is not equal to `"`, yet PostgreSQL reads the quote alone and the mark after it, so comparing
    /// characters would leave that quote undoubled and end the identifier or literal early.
    func replacingAll(_ target: Unicode.Scalar, with replacement: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == target { result.append(contentsOf: replacement.unicodeScalars) } else { result.append(scalar) }
        }
        return String(result)
    }

    func trimmingSpaces() -> String {
        var slice = self[...]
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
