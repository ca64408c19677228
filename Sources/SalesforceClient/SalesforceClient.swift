import Foundation
import Logging

/// A blocking Bulk API 2.0 query client over libcurl.
///
/// One instance belongs to one thread at a time (it is not `Sendable`); every call blocks until the server
/// answers. The client authenticates lazily, re-authenticates once when the session expires mid-run, retries
/// transient failures with capped exponential backoff, and stops when its ``CancellationFlag`` is set.
///
/// ```swift
/// let client = SalesforceClient(configuration: try .fromEnvironment(["SF_ACCESS_TOKEN": token, "SF_INSTANCE_URL": url]))
/// let job = try client.createQueryJob("SELECT Id, Name FROM Contact", operation: .query)
/// _ = try client.waitForCompletion(job.id)
/// let summary = try client.downloadResults(job.id, maxRecords: 50_000, into: myConsumer)
/// try client.deleteJob(job.id)
/// ```
public final class SalesforceClient {
    /// The settings this client was made with.
    public let configuration: SalesforceConfiguration
    let cancellation: CancellationFlag
    let logger: Logger
    var session: Session?
    /// Why a configured ``OAuthGrant/accessToken(token:instanceURL:)`` instance URL was refused; thrown by
    /// ``authenticate()`` (so by the first request) because `init` cannot throw.
    private var accessTokenRejection: SalesforceError?
    /// The token endpoint's refusal of this client's credentials, thrown by every later ``authenticate()`` without
    /// asking again: a wrong password tried once per job (or per expired session) locks the integration user out.
    private var loginRefusal: SalesforceError?

    /// An access token and the instance it is valid on. The instance is kept parsed so every request URL is
    /// compared with it (``URLPolicy/resolve(_:instance:what:)``) rather than concatenated to it.
    struct Session {
        var accessToken: String
        var instance: CheckedURL
        /// The org the token belongs to: from the token response's `id` URL, or asked of userinfo for a fixed
        /// access token (which comes without one).
        var organizationId: OrganizationId?
        var instanceURL: String { instance.origin }
    }

    /// Every HTTP request sent to the API (retries included), not counting the token endpoint.
    public internal(set) var apiCallCount = 0
    /// Bulk query jobs this client created (each counts against `DailyBulkV2QueryJobs`).
    public internal(set) var bulkJobsCreated = 0
    /// TCP connections opened (each a TLS handshake over https), token requests, retries and the parallel
    /// download's workers included. With connection reuse this stays near one per thread, however many requests.
    public internal(set) var connectionsOpened = 0
    /// The libcurl handle this client's requests go through, kept between them so its cached connection carries
    /// the next one (see ``transfer(_:honorCancellation:responseHeaders:sink:)``); `nil` before the first request
    /// and after one that failed.
    var connection: CurlEasyHandle?
    /// The org's daily API usage from the most recent `Sforce-Limit-Info` header.
    public internal(set) var lastApiUsage: ApiUsage?
    /// ``apiCallCount`` when ``lastApiUsage`` arrived: calls made since (by parallel download workers, whose headers
    /// this client does not see) are not in it yet.
    public internal(set) var apiCallCountAtUsage = 0

    /// Creates a client; no network traffic happens until the first call.
    public init(
        configuration: SalesforceConfiguration, cancellation: CancellationFlag = CancellationFlag(),
        logger: Logger = Logger(label: "sfpg.salesforce")
    ) {
        self.configuration = configuration
        self.cancellation = cancellation
        self.logger = logger
        if case let .accessToken(token, instanceURL) = configuration.grant {
            do {
                let instance = try URLPolicy.checkHost(
                    instanceURL, what: "the instance URL (SF_INSTANCE_URL)",
                    allowAnyHost: configuration.allowAnyInstanceHost, allowPath: false)
                session = Session(accessToken: token, instance: instance)
            } catch {
                accessTokenRejection = error as? SalesforceError
            }
        }
    }

    /// The API host from the token response (or the configured one for `.accessToken`); `nil` before login.
    public var instanceURL: String? { session?.instanceURL }

    /// `/services/data/v<apiVersion>`.
    var dataPath: String { "/services/data/v\(configuration.apiVersion)" }

    var transportSettings: TransportSettings {
        TransportSettings(
            caBundlePath: configuration.caBundlePath, connectTimeoutSeconds: configuration.connectTimeoutSeconds,
            lowSpeedTimeSeconds: configuration.lowSpeedTimeSeconds,
            lowSpeedLimitBytesPerSecond: configuration.lowSpeedLimitBytesPerSecond,
            requestTimeoutMilliseconds: Self.milliseconds(configuration.requestTimeout),
            pageTimeoutMilliseconds: Self.milliseconds(configuration.pageTimeout),
            maxResponseBytes: configuration.maxResponseBytes)
    }

    /// Whole milliseconds, at least 1 (libcurl reads 0 as "no limit").
    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return max(1, Int(clamping: seconds) &* 1000 &+ Int(attoseconds / 1_000_000_000_000_000))
    }

    /// Obtains an access token now (other calls do it lazily).
    ///
    /// - Throws: `.authentication` with advice on which setting to check; `.network` when the login host is
    ///   unreachable after the retries; `.configuration` for an unusable JWT key; `.protocolViolation` when the login
    ///   URL or the `instance_url` it answers with is not an allowed host (see ``URLPolicy``).
    public func authenticate() throws {
        if case .accessToken = configuration.grant {
            if let accessTokenRejection { throw accessTokenRejection }
            return
        }
        // The login URL gets the credentials themselves: it passes the same host rule as the instance.
        _ = try URLPolicy.checkHost(
            configuration.loginURL, what: "the login URL (SF_LOGIN_URL)",
            allowAnyHost: configuration.allowAnyInstanceHost, allowPath: true)
        var grant = configuration.grant
        if case let .refreshToken(clientId, clientSecret, configured) = grant {
            let current = RefreshTokenRotation.shared.current(
                loginURL: configuration.loginURL, clientId: clientId, configured: configured)
            grant = .refreshToken(clientId: clientId, clientSecret: clientSecret, refreshToken: current)
        }
        if let loginRefusal { throw loginRefusal }
        let form = try TokenRequest(grant: grant, loginURL: configuration.loginURL)
        let response: HTTPResponse
        do {
            response = try send(
                APIRequest(
                    method: .post, target: .tokenEndpoint(loginURL: configuration.loginURL),
                    purpose: .token(configuration.grant, loginURL: configuration.loginURL), body: .form(form.encodedBody)))
        } catch let error as SalesforceError where error.code == .authentication {
            loginRefusal = error
            throw error
        }
        try startSession(with: LenientJSON.decode(TokenResponse.self, from: response.body, what: "token response"))
    }

    /// Keeps the token of a successful login, and the rotated refresh token if one came with it.
    private func startSession(with answer: TokenResponse) throws {
        guard let token = answer.accessToken, let instance = answer.instanceURL else {
            throw SalesforceError(
                code: .protocolViolation,
                message: "The token response from \(configuration.loginURL) lacks access_token or instance_url.")
        }
        // Rotation: the token just presented is revoked now; keep its successor for the next login (even if the
        // instance below is refused: the login host that issued it is trusted, and the old one is dead).
        if case let .refreshToken(clientId, _, configured) = configuration.grant, let rotated = answer.refreshToken,
            !rotated.isEmpty
        {
            RefreshTokenRotation.shared.record(
                rotated, loginURL: configuration.loginURL, clientId: clientId, configured: configured)
            logger.debug("Refresh token rotated; the new one is used for later logins")
        }
        // Every later request (and the token with it) goes to this host, so a token response that names a host
        // outside Salesforce is refused. `api_instance_url` (newer orgs) is not used, so not trusted.
        let checked = try URLPolicy.checkHost(
            instance, what: "the instance_url from the token response",
            allowAnyHost: configuration.allowAnyInstanceHost, allowPath: false)
        session = Session(
            accessToken: token, instance: checked, organizationId: answer.identityURL.flatMap(OrganizationId.init(identityURL:)))
        logger.debug("Authenticated", metadata: ["sf.grant": "\(configuration.grant.name)"])
    }

    func checkCancellation() throws {
        if cancellation.isCancelled { throw SalesforceError.cancelled() }
    }

    func recordLimitInfo(_ header: String?) {
        guard let header, let usage = ApiUsage(limitInfoHeader: header) else { return }
        lastApiUsage = usage
        apiCallCountAtUsage = apiCallCount
    }
}

@available(*, unavailable)
extension SalesforceClient: Sendable {}
