/// An error from PostgreSQL or from sfpg's use of it.
///
/// `description` is what users see; it never contains a password, a connection string or row contents (see
/// `RowContentRedaction`). Server fields (SQLSTATE, detail, hint, context) are kept, values elided, so callers and
/// tests can branch on codes rather than text.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// A small, open set of error kinds (`static let`s so new ones don't break callers).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Could not connect, or the connection was lost.
        public static let connection = Code("connection")
        /// A statement failed on the server.
        public static let query = Code("query")
        /// A COPY into staging failed (bad value, wrong header, aborted body).
        public static let copy = Code("copy")
        /// The server refused the password (or none was given where one is needed).
        public static let authentication = Code("authentication")
        /// Another run of the same job holds the job's advisory lock.
        public static let lockHeld = Code("lockHeld")
        /// The database schema does not match what sfpg needs (missing table or column, unapplied migration).
        public static let schema = Code("schema")
        /// The caller's configuration or call sequence is invalid.
        public static let configuration = Code("configuration")
    }

    public var code: Code
    public var message: String
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    public var context: String?
    /// The column a constraint violation is about (the server's `PG_DIAG_COLUMN_NAME`), e.g. of a NOT NULL.
    public var column: String?

    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        context: String? = nil, column: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.context = context
        self.column = column
    }

    public var description: String {
        var text = message
        if let sqlState, !message.contains("SQLSTATE") { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }
}

/// Removes row contents from the server's diagnostics before they become a `PostgresError`.
///
/// Errors go to stderr, cron mail, log collectors and `sfpg.sync_logs.error_message`, and the values in a row
/// are people's names, emails and phone numbers. PostgreSQL echoes them in three places: the `Failing row
/// contains (…)` detail of a constraint violation, a key's value in `Key (email)=(…)`, and the bad value itself
/// (`invalid input syntax for type date: "…"`, and `COPY …, line 3, column x: "…"` in the context). What locates
/// the problem — the page, line, column, constraint and type — is kept; the values become `…`.
enum RowContentRedaction {
    static let elided = "\"…\""

    /// Words after which a quoted string in a message is a name, not a value.
    static let nameIntroducers = [
        "column ", "relation ", "table ", "type ", "encoding ", "constraint ", "schema ", "function ", "index ",
    ]

    static func message(_ message: String, sqlState: String?) -> String {
        // Class 22 (data exception) messages quote the offending input value.
        guard sqlState?.hasPrefix("22") == true else { return message }
        return elidingQuotedValue(message)
    }

    static func detail(_ detail: String?, sqlState: String?) -> String? {
        guard let detail else { return nil }
        if detail.lowercased().contains("failing row contains") { return nil }
        if detail.hasPrefix("Key ("), let equals = detail.firstRange(of: ")=(") {
            let markers = [" already exists", " is not present in table", " is still referenced", " conflicts with"]
            let rest = detail[equals.upperBound...]
            let suffix = markers.compactMap { rest.firstRange(of: $0) }.min { $0.lowerBound < $1.lowerBound }
                .map { ")" + rest[$0.lowerBound...] } ?? ")"
            return detail[..<equals.upperBound] + "…" + suffix
        }
        guard sqlState?.hasPrefix("22") == true else { return detail }
        return elidingQuotedValue(detail)
    }

    /// `COPY t, line 3, column x: "value"` → `COPY t, line 3, column x: "…"`; `COPY t, line 3: "a,b"` likewise;
    /// `JSON data, line 1: …` loses its text. Other context lines (PL/pgSQL, SQL statements) are kept.
    static func context(_ context: String?) -> String? {
        guard let context else { return nil }
        return context.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("COPY "), let lineMarker = line.firstRange(of: ", line ") {
                let afterLine = line[lineMarker.upperBound...]
                let searchFrom = afterLine.firstRange(of: ", column ")?.upperBound ?? lineMarker.upperBound
                if let colon = line[searchFrom...].firstRange(of: ": ") {
                    return line[..<colon.upperBound] + elided
                }
                return String(line)
            }
            if line.hasPrefix("JSON data"), let colon = line.firstRange(of: ": ") {
                return line[..<colon.upperBound] + "…"
            }
            return String(line)
        }.joined(separator: "\n")
    }

    /// Replaces the first quoted string that is not a name (and everything up to the last quote, as a value may
    /// contain quotes itself) with `"…"`.
    static func elidingQuotedValue(_ text: String) -> String {
        var searchStart = text.startIndex
        while let open = text[searchStart...].firstIndex(of: "\"") {
            let before = text[..<open]
            if nameIntroducers.contains(where: { before.hasSuffix($0) }) {
                // Skip the name: to its closing quote.
                guard let close = text[text.index(after: open)...].firstIndex(of: "\"") else { return text }
                searchStart = text.index(after: close)
                continue
            }
            let last = text.lastIndex(of: "\"")!
            let end = last > open ? text.index(after: last) : text.endIndex
            return text[..<open] + elided + text[end...]
        }
        return text
    }
}
