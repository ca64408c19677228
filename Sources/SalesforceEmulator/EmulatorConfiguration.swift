/// Settings of one emulated Salesforce org.
///
/// Every field has a default, so `EmulatorConfiguration()` gives a small org (1,000 Contacts) on an ephemeral
/// loopback port with fixed credentials. Data is a pure function of `seed`, so two emulators with the same
/// configuration serve byte-identical results.
public struct EmulatorConfiguration: Sendable {
    /// Interface to bind; keep it on loopback.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks an ephemeral port (read it back from ``Emulator/port``).
    public var port = 0
    /// Seed of the deterministic data generator.
    public var seed: UInt64 = 42
    /// Number of generated Contact records.
    public var contactCount = 1_000
    /// Number of generated Account records; `nil` means `contactCount / 10 + 1`.
    public var accountCount: Int?
    /// Number of generated Opportunity records; `nil` means `contactCount / 5`.
    public var opportunityCount: Int?
    /// Connected-app consumer key.
    public var clientId = "sfpg-emulator-client"
    /// Connected-app consumer secret.
    public var clientSecret = "emulator-secret"
    /// The integration user's username.
    public var username = "integration@sfpg.example"
    /// The integration user's password (the password grant expects password + security token).
    public var password = "emulator-password"
    /// The integration user's security token.
    public var securityToken = "emulatorToken"
    /// The refresh token accepted by the `refresh_token` grant.
    public var refreshToken = "emulator-refresh-token"
    /// Refresh-token rotation: every `refresh_token` grant answers with a new `refresh_token` and revokes the one
    /// it was given, as Salesforce does when a Connected App's refresh token policy rotates tokens. Off by default.
    public var rotateRefreshTokens = false
    /// PEM public key (RSA) that verifies RS256 assertions of the JWT bearer grant; `nil` disables the grant.
    public var jwtPublicKeyPEM: String? = nil
    /// Newest API version served; versions 47.0 through this one are accepted in paths.
    public var latestAPIVersion = "62.0"
    /// Rows per results page when the client sends no `maxRecords`.
    public var defaultPageSize = 50_000
    /// Upper bound of one results page's uncompressed CSV (header included), whatever `maxRecords` says: Salesforce's
    /// pages are "still subject to the size limits", so a page can be shorter than asked and only
    /// `Sforce-Locator: null` ends a chain. 10 MB: 50,000 rows of a typical 200–300-byte Contact selection stay one
    /// page, while wide selections (long text areas) are cut before `maxRecords`, as real orgs cut them — which
    /// catches clients that stop on a short page. At least one row is always sent.
    public var maxPageBytes = 10_000_000
    /// Bytes of rendered result pages kept across jobs (0: none, the default). A job that runs the same query,
    /// with the same CSV options, on unchanged data is served the pages an earlier job rendered, compressed, so a
    /// benchmark measures the client rather than the emulator's CSV generation on the same cores. Salesforce
    /// computes every job afresh; queries with relative date literals (`TODAY`, `LAST_N_DAYS:n`) are never cached.
    public var resultCacheBytes = 0
    /// Share (0…1) of results responses sent uncompressed although the client asked for gzip, as Salesforce's REST
    /// framework "sometimes" does. Drawn deterministically from `seed`.
    public var uncompressedProbability = 0.0
    /// Share (0…1) of results responses sent with chunked transfer encoding instead of a Content-Length.
    public var chunkedProbability = 0.0
    /// Serve https with a self-signed CA generated at start (see ``Emulator/caCertificatePath``); `instance_url`
    /// is then https, as it always is on Salesforce.
    public var tls = false
    /// Number of generated Users (owners, creators and modifiers of every record); at least 1.
    public var userCount = 20
    /// Time a job spends between `UploadComplete` and `JobComplete` (half of it in `InProgress`).
    public var jobProcessingDelay: Duration = .milliseconds(200)
    /// Per-connection cap on response body bytes per second (`nil` = unlimited).
    public var perConnectionBytesPerSecond: Int? = nil
    /// Extra delay before every response (`nil` = none).
    public var latency: Duration? = nil
    /// `DailyApiRequests` maximum reported by `/limits` and `Sforce-Limit-Info`.
    public var dailyApiRequests = 15_000
    /// A zero-row job answers with a header-only body instead of an empty body.
    public var headerOnlyForEmptyResults = false
    /// Results are gzip-compressed when the client asks (`Accept-Encoding: gzip`); `false` answers uncompressed
    /// anyway, as Salesforce sometimes does ("the REST framework sometimes doesn't send back the response in a
    /// compressed format").
    public var compressResults = true

    /// Aggregate queries (`COUNT()` and the rest) over more records than this fail with `QUERY_TIMEOUT`, as they
    /// time out on large objects; nil (the default): never.
    public var aggregateTimeoutRecords: Int? = nil
    /// getDeleted and getUpdated answer `EXCEEDED_ID_LIMIT` past this many Ids (Salesforce: 600,000).
    public var replicationIdLimit = 600_000
    /// Queries whose selected fields weigh more than this fail with `QUERY_TOO_COMPLICATED` (a field weighs 1, a
    /// formula field ``formulaFieldWeight``); nil (the default): never.
    public var maxQueryWeight: Int? = nil
    /// Weight of a formula field against ``maxQueryWeight``.
    public var formulaFieldWeight = 10
    /// Objects whose Bulk query jobs are refused (`INVALIDENTITY` "… is not supported by the Bulk API").
    public var bulkUnsupportedObjects: [String] = []
    /// Objects that describe as `replicateable: false` and refuse getDeleted and getUpdated (400 `INVALID_TYPE`), as
    /// many Salesforce objects do.
    public var nonReplicateableObjects: [String] = []
    /// Custom fields of `Wide__c`, a custom object for tests of objects too wide for one query (every tenth field a
    /// formula); 0 (the default): no such object.
    public var wideObjectFields = 0
    /// Generated `Wide__c` records.
    public var wideObjectRecords = 0
    /// How long soft-deleted records stay in the recycle bin before they are purged for good (Salesforce: 15 days);
    /// purged records vanish from `queryAll` and getDeleted.
    public var recycleBinRetention: Duration = .seconds(15 * 86_400)

    /// A configuration with every default.
    public init() {}

    var resolvedAccountCount: Int { accountCount ?? contactCount / 10 + 1 }
    var resolvedOpportunityCount: Int { opportunityCount ?? contactCount / 5 }
}
