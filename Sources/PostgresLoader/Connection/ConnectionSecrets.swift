import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps the database password out of every message sfpg prints or stores.
///
/// libpq quotes the offending fragment of a connection string it cannot parse (`invalid percent-encoded token:
/// "S3cr%t!pass"`), and that fragment is very often the password: a `%` or `@` in it that was not
/// percent-encoded is the classic mistake. Such messages end up on stderr, in cron mail and in log collectors.
/// So a connection string is parsed with `PQconninfoParse` first, and a parse failure is reported with sfpg's
/// own words (the class of mistake, never the text); every libpq message that does reach an error afterwards has
/// each spelling of the password removed.
struct ConnectionSecrets: Sendable {
    /// Every spelling of the password that could appear in a message, longest first (so a longer spelling is not
    /// half-replaced by a shorter one it contains).
    let secrets: [String]

    static let replacement = "[redacted]"

    init(secrets: [String]) {
        self.secrets = Array(Set(secrets.filter { !$0.isEmpty })).sorted { $0.utf8.count > $1.utf8.count }
    }

    /// Parses `conninfo` the way `PQconnectdbParams(…, expand_dbname: 1)` will, and collects the password's
    /// spellings: as parsed (percent-decoded, unquoted), as written in a URI, and `PGPASSWORD` (passed in by the
    /// settings reader: libpq reads it, sfpg's library does not).
    ///
    /// A string that is neither a URI nor contains `=` is a plain database name to libpq, not a connection string,
    /// so it is not parsed here either.
    /// - Throws: `PostgresError` `.configuration` naming the class of mistake but no part of the string.
    static func checking(_ conninfo: String, environmentPassword: String? = nil) throws -> ConnectionSecrets {
        var spellings: [String] = environmentPassword.map { [$0] } ?? []
        guard isConnectionString(conninfo) else { return ConnectionSecrets(secrets: spellings) }
        let options = try parse(conninfo)
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val {
                spellings.append(String(cString: value))
            }
            option += 1
        }
        spellings += rawURIPasswords(conninfo)
        return ConnectionSecrets(secrets: spellings)
    }

    /// `PQconninfoParse` with sfpg's own error message. The caller frees the result with `PQconninfoFree`.
    static func parse(_ conninfo: String) throws -> UnsafeMutablePointer<PQconninfoOption> {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            // libpq's message quotes the fragment it choked on, which may be the password: read it only to
            // classify the mistake, and never let it out.
            let libpqMessage = errorMessage.map { String(cString: $0) }
            if let errorMessage { PQfreemem(errorMessage) }
            guard let libpqMessage else {
                throw PostgresError(.connection, "could not parse the database connection string: out of memory")
            }
            throw malformed(conninfo, libpqMessage: libpqMessage)
        }
        return options
    }

    /// libpq's own test (`recognized_connection_string`): a URI prefix, or an `=` anywhere.
    static func isConnectionString(_ conninfo: String) -> Bool {
        conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://") || conninfo.contains("=")
    }

    /// The error for a connection string libpq cannot parse: what kind of mistake, and how to fix it.
    static func malformed(_ conninfo: String, libpqMessage: String) -> PostgresError {
        let isURI = conninfo.hasPrefix("postgresql://") || conninfo.hasPrefix("postgres://")
        let what = isURI ? "the database URL" : "the database connection string"
        let reason: String
        if libpqMessage.contains("percent-encoded") || libpqMessage.contains("%00") {
            reason = "it has an invalid %-escape: percent-encode special characters in the user name and password "
                + "(% as %25, @ as %40, : as %3A, / as %2F, ? as %3F, # as %23)"
        } else if libpqMessage.hasPrefix("missing \"=\"") {
            reason = "a word in it has no '=': put values that contain spaces in single quotes (password='two words')"
        } else if libpqMessage.hasPrefix("unterminated quoted string") {
            reason = "a quoted value is not closed: inside single quotes, write \\' for ' and \\\\ for \\"
        } else if libpqMessage.hasPrefix("invalid connection option") || libpqMessage.hasPrefix("invalid URI query parameter")
            || libpqMessage.contains("key/value separator")
        {
            reason = "it names an unknown option or has a malformed query parameter (check the spelling of the "
                + "options, and percent-encode special characters in the user name and password)"
        } else if libpqMessage.contains("IPv6") || libpqMessage.contains("URI") {
            reason = "it is not a valid postgresql:// URI (check the host and port, and percent-encode special "
                + "characters in the user name and password, e.g. @ as %40)"
        } else {
            reason = "libpq could not parse it (percent-encode special characters in a URL's user name and "
                + "password, e.g. % as %25; quote values with spaces in key=value form)"
        }
        return PostgresError(
            .configuration, "\(what) is malformed: \(reason)",
            hint: "The string itself is not shown, because it may contain the password.")
    }

    /// The password as written between `user:` and `@` of a URI, and in a `password=` query parameter: the
    /// percent-encoded spellings, which differ from the parsed value when the password has special characters.
    static func rawURIPasswords(_ conninfo: String) -> [String] {
        guard let schemeEnd = conninfo.firstRange(of: "://") else { return [] }
        var found: [String] = []
        let rest = conninfo[schemeEnd.upperBound...]
        // libpq's rule: credentials end at the first '@' seen before any '/'.
        if let at = rest.firstIndex(where: { $0 == "@" || $0 == "/" }), rest[at] == "@" {
            let userinfo = rest[..<at]
            if let colon = userinfo.firstIndex(of: ":") { found.append(String(userinfo[userinfo.index(after: colon)...])) }
        }
        if let question = rest.firstIndex(of: "?") {
            for parameter in rest[rest.index(after: question)...].split(separator: "&") {
                if parameter.hasPrefix("password=") { found.append(String(parameter.dropFirst("password=".count))) }
            }
        }
        return found
    }

    /// `text` with every spelling of the password replaced by `[redacted]`.
    func scrub(_ text: String) -> String {
        var text = text
        for secret in secrets where text.contains(secret) {
            text = text.replacing(secret, with: Self.replacement)
        }
        return text
    }
}

extension PostgresConnection {
    /// Whether `conninfo` itself carries a password (`user:pw@` in a URI, `password=` in either form). For the warning
    /// that a password on the command line is visible to every local user in `ps`.
    public static func containsPassword(_ conninfo: String) -> Bool {
        guard ConnectionSecrets.isConnectionString(conninfo) else { return false }
        if !ConnectionSecrets.rawURIPasswords(conninfo).filter({ !$0.isEmpty }).isEmpty { return true }
        guard let options = try? ConnectionSecrets.parse(conninfo) else { return false }
        defer { PQconninfoFree(options) }
        var option = options
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "password", let value = option.pointee.val, value.pointee != 0 { return true }
            option += 1
        }
        return false
    }
}
