extension PostgresConnection {
    /// The error for a connection libpq could not establish, with a code that says whether a retry can help.
    ///
    /// libpq reports a failed connect as text only (no SQLSTATE reaches the client before a session exists), so
    /// the known permanent causes are recognised by libpq's and the server's wording: a database or role that does
    /// not exist, a refused password, a `pg_hba.conf` rule, a connection option libpq rejects, a server
    /// certificate it cannot verify. Everything else (server down or starting up, network, too many connections)
    /// stays `.connection`: "retry later". `message` has the password removed already.
    static func connectFailure(_ message: String) -> PostgresError {
        let code: PostgresError.Code
        var hint: String?
        if Self.permanentConnectFailures.contains(where: message.contains) {
            code = .configuration
            hint = "Check the database URL (--database-url, DATABASE_URL or the PG* variables): a retry will not help."
        } else if Self.passwordFailures.contains(where: message.contains) {
            code = .authentication
            hint = "Check the password (in the URL, PGPASSWORD or ~/.pgpass): a retry will not help."
        } else {
            code = .connection
        }
        return PostgresError(code, "could not connect to PostgreSQL: \(message)", hint: hint)
    }

    /// libpq's and the server's words for a connection that fails the same way every time.
    static let permanentConnectFailures = [
        "\" does not exist",  // database "x" does not exist, role "x" does not exist
        "no pg_hba.conf entry", "invalid integer value", "invalid port number", "invalid sslmode value",
        "invalid connection option", "invalid value for parameter", "certificate verify failed",
        "root certificate file", "invalid target_session_attrs value", "invalid channel_binding value",
    ]

    /// A refused or missing password.
    static let passwordFailures = ["password authentication failed", "no password supplied"]
}
