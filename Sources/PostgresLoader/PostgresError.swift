/// An error from PostgreSQL or from sfpg's use of it.
///
/// `description` is what users see; it never contains a password or a connection string. Server fields
/// (SQLSTATE, detail, hint, context) are kept so callers and tests can branch on codes rather than text.
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

    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        context: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.context = context
    }

    public var description: String {
        var text = message
        if let sqlState, !message.contains("SQLSTATE") { text += " (SQLSTATE \(sqlState))" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }
}
