import SettingsSyntax

/// Where the Pub/Sub API listens: Salesforce's `api.pubsub.salesforce.com:7443` over TLS (verified against the system's
/// CA store or `caBundlePath`), or, for the emulator only, plaintext HTTP/2 on a loopback host.
public struct PubSubEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var tls: Bool
    /// PEM file of the CAs to trust instead of the system's (`SF_CA_BUNDLE`); nil: the system's.
    public var caBundlePath: String?

    /// Salesforce's global Pub/Sub endpoint.
    public static let salesforce = "api.pubsub.salesforce.com:7443"

    public init(host: String, port: Int, tls: Bool = true, caBundlePath: String? = nil) {
        (self.host, self.port, self.tls, self.caBundlePath) = (host, port, tls, caBundlePath)
    }

    /// Reads `host[:port]` or `https://host[:port]` (TLS; port 7443 when omitted), or `http://host:port` (plaintext,
    /// loopback hosts only: a token must never cross a network in the clear).
    /// - Throws: `SettingError` naming `setting` and the accepted forms.
    public init(_ text: String, setting: String = "SF_PUBSUB_ENDPOINT", caBundlePath: String? = nil) throws(SettingError) {
        let invalid = SettingError(
            setting: setting, value: text,
            expected: "host:port, https://host:port, or http://host:port on a loopback host (127.0.0.1, localhost, ::1)")
        var rest = Substring(text), tls = true
        if rest.hasPrefix("https://") { rest = rest.dropFirst(8) } else if rest.hasPrefix("http://") { (rest, tls) = (rest.dropFirst(7), false) }
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var host = rest, port = 7443
        if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(number) else { throw invalid }
            (host, port) = (rest[..<colon], number)
        }
        host = host.hasPrefix("[") && host.hasSuffix("]") ? host.dropFirst().dropLast() : host
        guard !host.isEmpty, !host.contains("/"), !host.contains("@"),
            tls || ["127.0.0.1", "localhost", "::1"].contains(host.lowercased())
        else { throw invalid }
        self.init(host: String(host), port: port, tls: tls, caBundlePath: caBundlePath)
    }

    public var description: String { "\(tls ? "https" : "http")://\(host):\(port)" }
}
