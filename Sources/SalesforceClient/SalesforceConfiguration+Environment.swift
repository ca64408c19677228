import Foundation
import SettingsSyntax

extension SalesforceConfiguration {
    /// Builds a configuration from `SF_*` settings in an environment-style dictionary, read by the one rule of
    /// ``SettingsSource`` (trimmed; blank means unset). The executable passes its process environment; this
    /// function never reads it itself.
    ///
    /// ```swift
    /// let config = try SalesforceConfiguration.fromEnvironment(["SF_ACCESS_TOKEN": token, "SF_INSTANCE_URL": url])
    /// ```
    public static func fromEnvironment(_ environment: [String: String]) throws -> SalesforceConfiguration {
        try fromSettings(SettingsSource(environment))
    }

    /// Builds a configuration from the `SF_*` settings.
    ///
    /// Reads SF_LOGIN_URL, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_USERNAME, SF_PASSWORD, SF_SECURITY_TOKEN,
    /// SF_PRIVATE_KEY_FILE, SF_REFRESH_TOKEN, SF_ACCESS_TOKEN, SF_INSTANCE_URL, SF_API_VERSION (and SF_JWT_AUDIENCE,
    /// SF_CA_BUNDLE else CURL_CA_BUNDLE else SSL_CERT_FILE, SF_ALLOW_ANY_INSTANCE_HOST, and the transfer bounds
    /// SF_REQUEST_TIMEOUT, SF_PAGE_TIMEOUT, SF_LOW_SPEED_LIMIT, SF_LOW_SPEED_TIME, and the spool settings
    /// SFPG_SPOOL_DIR else TMPDIR, SF_SPOOL_MAX_BYTES). Durations use ``DurationSyntax``. The
    /// grant follows from which variables are set, in this order:
    /// access token > JWT (private key file) > refresh token > password > client credentials. Plain `http://` is
    /// only allowed for loopback hosts, and the login and instance URLs must be on a Salesforce domain
    /// (``URLPolicy/salesforceDomains``) or loopback unless `SF_ALLOW_ANY_INSTANCE_HOST=1`.
    /// - Throws: ``SalesforceError`` with code `.configuration` listing the missing or invalid variables; secrets
    ///   are never quoted.
    public static func fromSettings(_ settings: SettingsSource) throws -> SalesforceConfiguration {
        let loginURL = settings["SF_LOGIN_URL"] ?? "https://login.salesforce.com"
        let allowAnyHost = try configurationError { () throws(SettingError) in
            try settings.flag(URLPolicy.allowAnyHostVariable)
        }
        // The same rule the client applies before sending, reported as a setting to fix.
        func checkHost(_ url: String, variable: String, allowPath: Bool) throws {
            try validateURL(url, variable: variable)
            do {
                _ = try URLPolicy.checkHost(url, what: variable, allowAnyHost: allowAnyHost, allowPath: allowPath)
            } catch var error as SalesforceError {
                error.code = .configuration
                throw error
            }
        }
        let grant = try grant(from: settings)
        if case let .accessToken(_, instance) = grant {
            try checkHost(instance, variable: "SF_INSTANCE_URL", allowPath: false)
        } else {
            try checkHost(loginURL, variable: "SF_LOGIN_URL", allowPath: true)
        }
        var configuration = SalesforceConfiguration(loginURL: trimmingSlash(loginURL), grant: grant)
        try configuration.apply(settings)
        configuration.allowAnyInstanceHost = allowAnyHost
        return configuration
    }

    /// The grant the settings name: access token > JWT (private key file) > refresh token > password > client
    /// credentials.
    /// - Throws: `.configuration` naming the variables the grant still needs, or an unreadable key file.
    static func grant(from settings: SettingsSource) throws -> OAuthGrant {
        func value(_ name: String) -> String? { settings[name] }
        func require(_ names: [String], for grant: String) throws {
            let missing = names.filter { value($0) == nil }
            guard missing.isEmpty else {
                throw SalesforceError(
                    code: .configuration,
                    message: "The \(grant) grant needs \(missing.joined(separator: ", ")); set "
                        + (missing.count == 1 ? "it" : "them") + " in the environment.")
            }
        }
        if let token = value("SF_ACCESS_TOKEN") {
            try require(["SF_INSTANCE_URL"], for: "access token")
            return .accessToken(token: token, instanceURL: trimmingSlash(value("SF_INSTANCE_URL") ?? ""))
        }
        if let keyFile = value("SF_PRIVATE_KEY_FILE") {
            try require(["SF_CLIENT_ID", "SF_USERNAME"], for: "JWT bearer")
            let pem: String
            do {
                pem = try String(contentsOfFile: keyFile, encoding: .utf8)
            } catch {
                throw SalesforceError(
                    code: .configuration,
                    message: "Cannot read the private key file '\(keyFile)' named by SF_PRIVATE_KEY_FILE; "
                        + "check the path and its permissions.")
            }
            return .jwtBearer(
                clientId: value("SF_CLIENT_ID") ?? "", username: value("SF_USERNAME") ?? "", privateKeyPEM: pem,
                audience: value("SF_JWT_AUDIENCE"))
        }
        if let refresh = value("SF_REFRESH_TOKEN") {
            try require(["SF_CLIENT_ID"], for: "refresh token")
            return .refreshToken(
                clientId: value("SF_CLIENT_ID") ?? "", clientSecret: value("SF_CLIENT_SECRET"), refreshToken: refresh)
        }
        if value("SF_USERNAME") != nil || value("SF_PASSWORD") != nil {
            try require(["SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_USERNAME", "SF_PASSWORD"], for: "username-password")
            return .password(
                clientId: value("SF_CLIENT_ID") ?? "", clientSecret: value("SF_CLIENT_SECRET") ?? "",
                username: value("SF_USERNAME") ?? "", password: value("SF_PASSWORD") ?? "",
                securityToken: value("SF_SECURITY_TOKEN"))
        }
        if let clientId = value("SF_CLIENT_ID"), let clientSecret = value("SF_CLIENT_SECRET") {
            return .clientCredentials(clientId: clientId, clientSecret: clientSecret)
        }
        throw SalesforceError(
            code: .configuration,
            message: "No Salesforce credentials in the environment. Set one of: SF_ACCESS_TOKEN + SF_INSTANCE_URL; "
                + "SF_PRIVATE_KEY_FILE + SF_CLIENT_ID + SF_USERNAME (JWT); SF_REFRESH_TOKEN + SF_CLIENT_ID; "
                + "SF_USERNAME + SF_PASSWORD + SF_CLIENT_ID + SF_CLIENT_SECRET; or SF_CLIENT_ID + SF_CLIENT_SECRET "
                + "(client credentials).")
    }

    /// The API version, CA bundle, spool and transfer-bound settings: everything but the grant and the hosts.
    mutating func apply(_ settings: SettingsSource) throws {
        if let version = settings["SF_API_VERSION"] {
            let trimmed = version.hasPrefix("v") ? String(version.dropFirst()) : version
            let parts = trimmed.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && Int($0) != nil })
            else {
                throw SalesforceError(
                    code: .configuration, message: "SF_API_VERSION '\(version)' is not a version like 62.0.")
            }
            apiVersion = trimmed
        }
        // CURL_CA_BUNDLE and SSL_CERT_FILE are what the curl tool and OpenSSL read; libcurl itself reads neither.
        caBundlePath = settings.first("SF_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
        spoolDirectorySetting = ["SFPG_SPOOL_DIR", "TMPDIR"].first { settings[$0] != nil }
        spoolDirectory = spoolDirectorySetting.flatMap { settings[$0] }
        if let text = settings["SF_SPOOL_MAX_BYTES"] {
            spoolBudgetBytes = try Self.parseByteCount(text, variable: "SF_SPOOL_MAX_BYTES")
        }
        if let text = settings["SF_REQUEST_TIMEOUT"] {
            requestTimeout = try Self.parseDuration(text, variable: "SF_REQUEST_TIMEOUT")
        }
        if let text = settings["SF_PAGE_TIMEOUT"] {
            pageTimeout = try Self.parseDuration(text, variable: "SF_PAGE_TIMEOUT")
        }
        if let text = settings["SF_LOW_SPEED_TIME"] {
            let duration = try Self.parseDuration(text, variable: "SF_LOW_SPEED_TIME")
            lowSpeedTimeSeconds = max(1, Int(duration.components.seconds))
        }
        if let bytes = try Self.configurationError({ () throws(SettingError) in
            try settings.positiveInteger("SF_LOW_SPEED_LIMIT", unit: "bytes per second")
        }) {
            lowSpeedLimitBytesPerSecond = bytes
        }
    }

    /// A positive byte count: digits, optionally with K, M, G (powers of 1024, also written KiB, MiB, GiB, KB, MB,
    /// GB).
    static func parseByteCount(_ text: String, variable: String) throws -> Int64 {
        let units: [(String, Int64)] = [
            ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("kb", 1 << 10), ("mb", 1 << 20), ("gb", 1 << 30),
            ("k", 1 << 10), ("m", 1 << 20), ("g", 1 << 30), ("b", 1),
        ]
        var number = Substring(text.trimmingCharacters(in: .whitespaces).lowercased())
        var scale: Int64 = 1
        if let unit = units.first(where: { number.hasSuffix($0.0) }) {
            number = number.dropLast(unit.0.count)
            scale = unit.1
        }
        guard let value = Int64(number.trimmingCharacters(in: .whitespaces)), value > 0,
            value <= Int64.max / scale
        else {
            throw SalesforceError(
                code: .configuration,
                message: "\(variable) '\(text)' is not a positive byte count like 1073741824, 512M or 2G.")
        }
        return value * scale
    }

    /// A duration in ``DurationSyntax`` from 1 ms to 7 days.
    static func parseDuration(_ text: String, variable: String) throws -> Duration {
        try configurationError { () throws(SettingError) in
            try DurationSyntax.parse(text, setting: variable, in: .milliseconds(1)...(.seconds(7 * 86_400)))
        }
    }

    /// `body`'s value, a ``SettingError`` turned into this library's `.configuration` error.
    static func configurationError<T>(_ body: () throws(SettingError) -> T) throws -> T {
        do {
            return try body()
        } catch {
            throw SalesforceError(code: .configuration, message: "\(error).")
        }
    }

    /// Accepts `https://` anywhere and `http://` only for loopback hosts, so credentials never cross a network in
    /// clear text.
    static func validateURL(_ url: String, variable: String) throws {
        let lower = url.lowercased()
        if lower.hasPrefix("https://"), lower.count > "https://".count { return }
        if lower.hasPrefix("http://") {
            // A URL the parser refuses (userinfo, a malformed host) is left to URLPolicy.checkHost, which says why.
            guard let host = CheckedURL.host(of: url), !isLoopback(host) else { return }
            throw SalesforceError(
                code: .configuration,
                message: "\(variable) '\(url)' uses plain http:// on a non-loopback host; use https:// "
                    + "(plain http is allowed only for 127.0.0.1/localhost).")
        }
        throw SalesforceError(
            code: .configuration, message: "\(variable) '\(url)' is not an https:// URL (e.g. https://login.salesforce.com).")
    }

    /// `localhost`, `[::1]`, or an IPv4 literal in 127.0.0.0/8 (not a name that merely starts with "127.").
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "[::1]" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { $0.count <= 3 && $0.allSatisfy(\.isASCII) && (UInt8($0) != nil) }
    }

    static func trimmingSlash(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }
}
