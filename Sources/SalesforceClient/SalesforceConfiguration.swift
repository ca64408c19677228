/// How the client obtains an access token.
///
/// Every grant except ``accessToken(token:instanceURL:)`` posts to `<loginURL>/services/oauth2/token` and can be
/// repeated when the session expires mid-run.
public enum OAuthGrant: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// JWT bearer flow: an RS256 assertion signed with the Connected App's private key (PEM text).
    /// `audience` defaults to the login URL for login/test.salesforce.com, else `https://login.salesforce.com`.
    case jwtBearer(clientId: String, username: String, privateKeyPEM: String, audience: String?)
    /// Client credentials flow (needs a My Domain login URL and a run-as user on the Connected App).
    case clientCredentials(clientId: String, clientSecret: String)
    /// Refresh token flow.
    case refreshToken(clientId: String, clientSecret: String?, refreshToken: String)
    /// Username-password flow; the security token is appended to the password.
    case password(clientId: String, clientSecret: String, username: String, password: String, securityToken: String?)
    /// A ready access token; it cannot be renewed, so an expired session is a hard error.
    case accessToken(token: String, instanceURL: String)

    /// Names the grant and its non-secret parts; secrets are never printed.
    public var description: String {
        switch self {
        case let .jwtBearer(clientId, username, _, audience):
            "jwtBearer(clientId: \(clientId), username: \(username), audience: \(audience ?? "default"))"
        case let .clientCredentials(clientId, _): "clientCredentials(clientId: \(clientId))"
        case let .refreshToken(clientId, _, _): "refreshToken(clientId: \(clientId))"
        case let .password(clientId, _, username, _, _): "password(clientId: \(clientId), username: \(username))"
        case let .accessToken(_, instanceURL): "accessToken(instanceURL: \(instanceURL))"
        }
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and reflection from printing the secrets too.
    public var customMirror: Mirror { Mirror(self, children: ["grant": description]) }

    var name: String {
        switch self {
        case .jwtBearer: "JWT bearer"
        case .clientCredentials: "client credentials"
        case .refreshToken: "refresh token"
        case .password: "username-password"
        case .accessToken: "access token"
        }
    }
}

/// Everything the client needs to talk to one Salesforce org.
public struct SalesforceConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// Base URL of the login host, e.g. `https://login.salesforce.com` or a My Domain URL.
    public var loginURL: String
    /// How to obtain the access token.
    public var grant: OAuthGrant
    /// REST API version used in every path (`/services/data/v<apiVersion>/…`).
    public var apiVersion: String = "62.0"
    /// CA bundle file for TLS verification; else `CURL_CA_BUNDLE`, `SSL_CERT_FILE`, or libcurl's default.
    public var caBundlePath: String?
    /// Accept login and instance hosts outside Salesforce's domains (``URLPolicy/salesforceDomains``), e.g. behind
    /// an API gateway. Off by default: the instance host receives the access token, and the login host the
    /// credentials. Set from `SF_ALLOW_ANY_INSTANCE_HOST=1`. Loopback is always accepted; links from responses
    /// must stay on the instance either way.
    public var allowAnyInstanceHost = false
    /// TCP/TLS connect timeout.
    public var connectTimeoutSeconds = 30
    /// The window of the stall checks: a result page averaging less than ``lowSpeedLimitBytesPerSecond``, or any
    /// other request less than 1 byte/s, for this long is aborted (`.timeout`, retried). `SF_LOW_SPEED_TIME`.
    public var lowSpeedTimeSeconds = 60
    /// Minimum speed of a streamed result page, in bytes/s averaged over ``lowSpeedTimeSeconds``: a peer that
    /// trickles slower is cut off rather than allowed to hold the run forever. `SF_LOW_SPEED_LIMIT`.
    public var lowSpeedLimitBytesPerSecond = 1024
    /// Total time limit of one non-streamed request (token, job create/poll/abort/delete, describe, limits, result
    /// page listing), connect included; a retryable `.timeout` when hit. `SF_REQUEST_TIMEOUT`.
    public var requestTimeout: Duration = .seconds(120)
    /// Total time limit of downloading one result page. Generous (pages reach hundreds of MB), but finite, so even
    /// a peer that stays just above the minimum speed cannot hold a run forever. `SF_PAGE_TIMEOUT`.
    public var pageTimeout: Duration = .seconds(30 * 60)
    /// Largest JSON (non-streamed) success response read, in bytes; a larger one fails with "response larger than
    /// N" instead of being used cut short. 64 MiB: describes of large objects reach several MB. Result pages are
    /// streamed and not limited by this. Error bodies are always capped at 1 MiB (only their message is used).
    public var maxResponseBytes = 64 << 20
    /// Where the parallel download creates its private spool directory (`sfpg-spool-<pid>-XXXXXX`, mode 0700);
    /// `nil` uses `TMPDIR`, else `/tmp`. Set from `SFPG_SPOOL_DIR`; a `spoolDirectory:` argument wins. `/tmp` is
    /// often RAM (tmpfs), so a disk directory is the better choice for large objects.
    public var spoolDirectory: String?
    /// The setting that chose ``spoolDirectory`` (`--spool-dir`, `SFPG_SPOOL_DIR`, `TMPDIR`), named by its errors.
    public var spoolDirectorySetting: String?
    /// Most decoded bytes the parallel download keeps in spool files at once (default 1 GiB). When reached,
    /// workers wait (fewer connections in effect) rather than exceed it; a single page larger than the budget is
    /// still downloaded, alone. Set from `SF_SPOOL_MAX_BYTES` (bytes, or with K/M/G/KiB/MiB/GiB).
    public var spoolBudgetBytes: Int64 = 1 << 30
    /// First delay between job status polls.
    public var pollInitialInterval: Duration = .milliseconds(500)
    /// Cap of the exponential poll backoff.
    public var pollMaxInterval: Duration = .seconds(10)
    /// How long ``SalesforceClient/waitForCompletion(_:)`` waits for a terminal state.
    public var jobTimeout: Duration = .seconds(4 * 3600)
    /// Retries of one request after retryable failures (5xx, 406/420/429, resets, truncated bodies).
    public var maxRetries = 5
    /// First retry delay; doubles per attempt, with jitter, capped at ``retryMaxDelay``.
    public var retryBaseDelay: Duration = .milliseconds(500)
    /// Cap of the retry backoff.
    public var retryMaxDelay: Duration = .seconds(30)

    /// The settings without secrets (the grant prints only its kind, client id and username).
    public var description: String {
        "SalesforceConfiguration(loginURL: \(loginURL), grant: \(grant), apiVersion: \(apiVersion), "
            + "caBundlePath: \(caBundlePath ?? "default"))"
    }

    public var debugDescription: String { description }

    /// Creates a configuration with default timeouts and API version.
    public init(loginURL: String, grant: OAuthGrant) {
        self.loginURL = loginURL
        self.grant = grant
    }
}
