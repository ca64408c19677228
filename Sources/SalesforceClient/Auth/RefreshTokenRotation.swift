import Foundation

/// Refresh tokens that Salesforce rotated during this process.
///
/// With refresh-token rotation enabled on the Connected App, every refresh-token grant answers with a new
/// `refresh_token` and revokes the one it was given. The configured token (`SF_REFRESH_TOKEN`) is then dead after
/// the first login, so a later login in the same process (a session that expired mid-run, a second client for
/// clean-up or the parallel download) must present the newest one instead. This is process-wide, because several
/// clients share one configuration; it is keyed by login URL, client id and the configured token, so two orgs or
/// apps never mix. The tokens are held in memory only, and never logged or printed.
final class RefreshTokenRotation: @unchecked Sendable {
    // @unchecked: `latest` is only touched while `lock` is held.
    static let shared = RefreshTokenRotation()

    private let lock = NSLock()
    private var latest: [String: String] = [:]

    private static func key(loginURL: String, clientId: String, configured: String) -> String {
        "\(loginURL)\u{0}\(clientId)\u{0}\(configured)"
    }

    /// The token to present for a grant configured with `configured`: the newest rotated one, else `configured`.
    func current(loginURL: String, clientId: String, configured: String) -> String {
        lock.withLock { latest[Self.key(loginURL: loginURL, clientId: clientId, configured: configured)] } ?? configured
    }

    /// Remembers `rotated`, the `refresh_token` of a successful refresh-token grant, for later logins.
    func record(_ rotated: String, loginURL: String, clientId: String, configured: String) {
        lock.withLock { latest[Self.key(loginURL: loginURL, clientId: clientId, configured: configured)] = rotated }
    }
}
