/// Where the client is willing to send a request, and so where the bearer token may go.
///
/// Every URL the client sends to is either built by the client itself (`<instance>/services/data/…`, the login
/// URL's token endpoint) or came from a response (result page links, next-page URLs, `instance_url`). A response
/// URL is attacker-controlled as far as the client knows: a link such as `https://elsewhere/…` or the relative
/// `@elsewhere/steal` (which, appended to `https://instance`, becomes `https://instance@elsewhere/steal`) would
/// carry the `Authorization` header to another host and load that host's CSV as a result page. So URLs are parsed
/// strictly here instead of being concatenated, and only two shapes are followed: a path starting with
/// `/services/data/`, or an absolute URL whose scheme, host and port equal the instance's.
struct CheckedURL: Equatable {
    /// `http` or `https`, lower-cased.
    var scheme: String
    /// Lower-cased; an IPv6 literal keeps its brackets (`[::1]`).
    var host: String
    /// The port in effect (the scheme's default when the URL names none).
    var port: Int
    /// Whether the URL named its port, so ``origin`` writes it back the same way.
    var explicitPort: Bool
    /// Path and query, starting with `/`, or empty.
    var pathAndQuery: String

    /// `scheme://host[:port]`, the part every followed link must share with the instance.
    var origin: String { "\(scheme)://\(host)" + (explicitPort ? ":\(port)" : "") }

    var string: String { origin + pathAndQuery }

    /// The path without its query, safe to log (no locators, tokens or form values).
    var path: String { String(pathAndQuery.prefix { $0 != "?" }) }

    /// The host of an http(s) URL (trailing slashes ignored), or `nil` when ``parse(_:)`` refuses it.
    static func host(of text: String) -> String? {
        var trimmed = Substring(text)
        while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard case .success(let url) = parse(String(trimmed)) else { return nil }
        return url.host
    }

    /// Why `text` is not a URL the client follows, or the parsed URL.
    ///
    /// Rejected outright: anything but `http`/`https`; userinfo (`@` before the host), because it is how a
    /// concatenated relative link changes the host; backslashes, which some parsers treat as `/`; control
    /// characters, spaces and non-ASCII; a fragment; an empty or malformed host or port; and `.`/`..` segments or
    /// `%` in the path, which could climb out of `/services/data/` after a server-side decode.
    static func parse(_ text: String) -> Result<CheckedURL, URLRejection> {
        if let bad = URLRejection.badCharacter(in: text) { return .failure(bad) }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            return .failure(.init(reason: "it is not an http(s) URL", host: nil))
        }
        let rest = text.dropFirst(scheme.count + 3)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let tail = String(rest.dropFirst(authority.count))
        if authority.contains("@") {
            let claimed = authority[authority.index(after: authority.lastIndex(of: "@")!)...]
            return .failure(.init(reason: "it carries userinfo ('@') before the host", host: String(claimed)))
        }
        guard let (host, port) = splitHostPort(Substring(authority)) else {
            return .failure(.init(reason: "its host or port is malformed", host: String(authority)))
        }
        if let problem = pathProblem(tail) { return .failure(.init(reason: problem, host: host)) }
        let defaultPort = scheme == "https" ? 443 : 80
        return .success(
            CheckedURL(
                scheme: scheme, host: host, port: port ?? defaultPort, explicitPort: port != nil, pathAndQuery: tail))
    }

    /// Host (lower-cased) and optional port of an authority without userinfo.
    private static func splitHostPort(_ authority: Substring) -> (String, Int?)? {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[...close]
            let inner = host.dropFirst().dropLast()
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else {
            let parts = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            host = parts[0]
            if parts.count == 2 { portText = parts[1] }
            let labels = host.split(separator: ".", omittingEmptySubsequences: false)
            guard !host.isEmpty,
                labels.allSatisfy({ label in
                    !label.isEmpty && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                })
            else { return nil }
        }
        var port: Int?
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII), let value = Int(portText),
                (1...65535).contains(value)
            else { return nil }
            port = value
        }
        return (host.lowercased(), port)
    }

    /// Why a path-and-query (`/…?…`, or empty) is refused, or `nil`.
    static func pathProblem(_ tail: String) -> String? {
        if tail.contains("#") { return "it has a fragment" }
        let path = tail.prefix { $0 != "?" }
        if !tail.isEmpty && !path.hasPrefix("/") { return "its path does not start with '/'" }
        if path.contains("%") { return "its path is percent-encoded" }
        if path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) {
            return "its path has '.' or '..' segments"
        }
        return nil
    }
}

/// Why a URL was refused; ``host`` is what the URL claimed as its host, for the error message.
struct URLRejection: Error, Equatable {
    var reason: String
    var host: String?

    static func badCharacter(in text: String) -> URLRejection? {
        for scalar in text.unicodeScalars {
            if scalar.value < 0x21 || scalar.value == 0x7F {
                return .init(reason: "it contains a control character or space", host: nil)
            }
            if scalar == "\\" { return .init(reason: "it contains a backslash", host: nil) }
            if !scalar.isASCII { return .init(reason: "it contains non-ASCII characters", host: nil) }
        }
        return nil
    }
}

/// The rule for URLs from responses, and for the instance and login hosts themselves.
enum URLPolicy {
    /// The only API paths the client ever requests; a followed link must stay below it.
    static let apiPrefix = "/services/data/"
    /// The one path outside ``apiPrefix`` the client requests itself (which org a fixed access token belongs to);
    /// exact, so no link from a response can use it to leave the API.
    static let userinfoPath = "/services/oauth2/userinfo"

    /// Domains Salesforce serves orgs from (production, sandboxes, My Domain, Government Cloud, Hyperforce China,
    /// Experience Cloud and Sites, setup, Database.com). A host must be a subdomain of one of them.
    static let salesforceDomains = [
        "salesforce.com", "force.com", "cloudforce.com", "salesforce.mil", "sfcrmproducts.cn",
        "salesforce-setup.com", "site.com", "database.com",
    ]

    /// Environment variable that turns the Salesforce-domain check off (value `1`), for deployments behind an
    /// unusual host name (a corporate API gateway, a private test server). Loopback needs no opt-out.
    static let allowAnyHostVariable = "SF_ALLOW_ANY_INSTANCE_HOST"

    /// Resolves `target` (a path or a URL, from the client or from a response) against the instance, or refuses it.
    ///
    /// Relative targets must start with `/services/data/` and are appended to the instance's origin; absolute ones
    /// must have the instance's scheme, host (case-insensitively) and port, and a path under `/services/data/`.
    /// - Parameter what: names the target in the error (`"a result page link"`).
    /// - Throws: `.protocolViolation` naming the claimed host; never the token (it is not part of any URL).
    static func resolve(_ target: String, instance: CheckedURL, what: String) throws -> String {
        func refuse(_ reason: String, host: String?) -> SalesforceError {
            let claimed = host.map { "host '\(sanitized($0))'" } ?? "'\(sanitized(target))'"
            return SalesforceError(
                code: .protocolViolation,
                message: "Refusing to follow \(what) to \(claimed): \(reason). Only paths under \(apiPrefix) on the "
                    + "instance \(instance.origin) are followed, so the access token never leaves it.")
        }
        let relative = target.hasPrefix("/")
        if relative && !target.hasPrefix(apiPrefix) && target != userinfoPath {
            throw refuse("a relative link must start with \(apiPrefix)", host: nil)
        }
        // A relative link is parsed as the absolute URL it becomes on the instance, by the same parser, so what is
        // checked is exactly what is sent.
        let url: CheckedURL
        switch CheckedURL.parse(relative ? instance.origin + target : target) {
        case .failure(let rejection) where relative:
            throw refuse(rejection.reason, host: nil)
        case .failure(let rejection):
            // `@host/…` and `host/…` are not URLs; name what follows the `@` as the host they aim at.
            let aimed = rejection.host ?? target.split(separator: "@", maxSplits: 1).dropFirst().first.map {
                String($0.prefix { $0 != "/" && $0 != "?" })
            }
            throw refuse(rejection.reason, host: aimed)
        case .success(let parsed): url = parsed
        }
        guard url.scheme == instance.scheme, url.host == instance.host, url.port == instance.port else {
            throw refuse(
                "it is not on the instance (scheme, host and port must match)", host: url.host + ":\(url.port)")
        }
        guard url.pathAndQuery.hasPrefix(apiPrefix) || url.pathAndQuery == userinfoPath else {
            throw refuse("its path is not under \(apiPrefix)", host: url.host)
        }
        return instance.origin + url.pathAndQuery
    }

    /// Parses an instance or login URL and checks its host: loopback, or a Salesforce domain unless
    /// `allowAnyHost`. `https` is required except on loopback. The instance URL must be an origin (no path);
    /// a login URL may carry a path (Experience Cloud site logins do).
    /// - Parameter what: names the URL in the error, e.g. `"instance_url from the token response"`.
    static func checkHost(_ text: String, what: String, allowAnyHost: Bool, allowPath: Bool) throws -> CheckedURL {
        var trimmed = text
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        let url: CheckedURL
        switch CheckedURL.parse(trimmed) {
        case .failure(let rejection):
            throw SalesforceError(
                code: .protocolViolation,
                message: "Refusing \(what) '\(sanitized(text))': \(rejection.reason).")
        case .success(let parsed): url = parsed
        }
        if url.pathAndQuery.contains("?") {
            throw SalesforceError(
                code: .protocolViolation,
                message: "Refusing \(what) on host '\(url.host)': it has a query; paths are appended to it.")
        }
        if !allowPath && url.pathAndQuery != "" {
            throw SalesforceError(
                code: .protocolViolation,
                message: "Refusing \(what) on host '\(url.host)': it has a path or query; an instance URL is only "
                    + "scheme, host and port.")
        }
        if SalesforceConfiguration.isLoopback(url.host) { return url }
        guard url.scheme == "https" else {
            throw SalesforceError(
                code: .protocolViolation,
                message: "Refusing \(what) on host '\(url.host)': plain http is allowed only on loopback.")
        }
        guard allowAnyHost || isSalesforceHost(url.host) else {
            throw SalesforceError(
                code: .protocolViolation,
                message: "Refusing \(what) on host '\(url.host)': it is not a Salesforce domain ("
                    + salesforceDomains.map { "*." + $0 }.joined(separator: ", ") + "). If this deployment really uses "
                    + "another host, set \(allowAnyHostVariable)=1.")
        }
        return url
    }

    /// Whether `host` is a proper subdomain of one of ``salesforceDomains`` (`x.my.salesforce.com`, not
    /// `salesforce.com.evil.example` nor `evilsalesforce.com`).
    static func isSalesforceHost(_ host: String) -> Bool {
        let host = host.lowercased()
        return salesforceDomains.contains { host.hasSuffix("." + $0) && host.count > $0.count + 1 }
    }

    /// The protocols libcurl may use for `url`: `https` only, plus `http` on a loopback host (the emulator).
    static func curlProtocols(for url: String) -> String {
        guard case .success(let parsed) = CheckedURL.parse(url), parsed.scheme == "http",
            SalesforceConfiguration.isLoopback(parsed.host)
        else { return "https" }
        return "http,https"
    }

    /// `text` made safe for a message: printable ASCII only, at most 200 characters.
    static func sanitized(_ text: String) -> String {
        let printable = text.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar.value != 0x7F ? Character(scalar) : "?"
        }
        let clipped = String(printable.prefix(200))
        return printable.count > 200 ? clipped + "…" : clipped
    }
}
