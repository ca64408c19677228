/// Settings of one emulated Salesforce org. The defaults give a small org (1,000 Contacts) on an ephemeral loopback
/// port with fixed credentials. Data is a pure function of `seed`: two emulators with the same configuration serve
/// byte-identical results.
public struct EmulatorConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks an ephemeral port (read it back from ``Emulator/port``).
    public var port = 0
    public var seed: UInt64 = 42
    /// Generated Contacts; Accounts are a tenth of them (plus one), Opportunities a fifth.
    public var contactCount = 1_000
    public var clientId = "sfpg-emulator-client"
    public var clientSecret = "emulator-secret"
    public var username = "integration@sfpg.example"
    /// The password grant expects password + security token.
    public var password = "emulator-password"
    public var securityToken = "emulatorToken"
    /// The refresh token the `refresh_token` grant accepts.
    public var refreshToken = "emulator-refresh-token"
    /// Every `refresh_token` grant answers with a new refresh token and revokes the one it was given, as Salesforce
    /// does when a Connected App's refresh token policy rotates tokens.
    public var rotateRefreshTokens = false
    /// RSA public key (PEM) that verifies the JWT bearer grant's RS256 assertions; `nil` disables the grant.
    public var jwtPublicKeyPEM: String? = nil
    /// Newest API version served; 47.0 through this one are accepted in paths.
    public var latestAPIVersion = "62.0"
    /// Rows per results page when the client sends no `maxRecords`.
    public var defaultPageSize = 50_000
    /// Upper bound of one results page's uncompressed CSV, whatever `maxRecords` says: Salesforce's pages are "still
    /// subject to the size limits", so a page can be shorter than asked and only `Sforce-Locator: null` ends a
    /// chain. 10 MB keeps 50,000 typical Contact rows one page but cuts wide selections, which catches clients that
    /// stop on a short page. At least one row is always sent.
    public var maxPageBytes = 10_000_000
    /// Bytes of rendered result pages reused by later jobs with the same query, CSV options and data, so a benchmark
    /// measures the client rather than the emulator's CSV writing on the same cores (0: off). Salesforce computes
    /// every job afresh; queries with relative date literals are never cached.
    public var resultCacheBytes = 0
    /// Share (0…1) of results responses sent uncompressed although the client asked for gzip, as Salesforce's REST
    /// framework "sometimes" does; drawn deterministically from `seed`.
    public var uncompressedProbability = 0.0
    /// Share (0…1) of results responses sent chunked instead of with a Content-Length.
    public var chunkedProbability = 0.0
    /// Serve https with a CA generated at start (``Emulator/caCertificatePath``); `instance_url` is then https, as
    /// it always is on Salesforce.
    public var tls = false
    /// Generated Users (owners, creators and modifiers of every record); at least 1.
    public var userCount = 20
    /// Time from `UploadComplete` to `JobComplete` (half of it `InProgress`).
    public var jobProcessingDelay: Duration = .milliseconds(200)
    /// Per-connection cap on response body bytes per second (`nil`: unlimited).
    public var perConnectionBytesPerSecond: Int? = nil
    /// Extra delay before every response.
    public var latency: Duration? = nil
    /// `DailyApiRequests` maximum of `/limits` and `Sforce-Limit-Info`.
    public var dailyApiRequests = 15_000
    /// A zero-row job answers with a header-only body instead of an empty one.
    public var headerOnlyForEmptyResults = false
    /// `false` answers uncompressed even when the client asks for gzip, as Salesforce sometimes does.
    public var compressResults = true
    /// Aggregate queries over more records than this fail with `QUERY_TIMEOUT`, as they time out on large objects.
    public var aggregateTimeoutRecords: Int? = nil
    /// getDeleted and getUpdated answer `EXCEEDED_ID_LIMIT` past this many Ids (Salesforce: 600,000).
    public var replicationIdLimit = 600_000
    /// Queries whose fields weigh more than this fail with `QUERY_TOO_COMPLICATED` (a field weighs 1, a formula
    /// ``formulaFieldWeight``).
    public var maxQueryWeight: Int? = nil
    public var formulaFieldWeight = 10
    /// Objects whose Bulk query jobs are refused (`INVALIDENTITY`).
    public var bulkUnsupportedObjects: [String] = []
    /// Objects that describe as `replicateable: false` and refuse getDeleted and getUpdated, as many do.
    public var nonReplicateableObjects: [String] = []
    /// Custom fields of `Wide__c`, an object too wide for one query (every tenth a formula); 0: no such object.
    public var wideObjectFields = 0
    public var wideObjectRecords = 0
    /// How long soft-deleted records stay in the recycle bin before they are purged from `queryAll` and getDeleted.
    public var recycleBinRetention: Duration = .seconds(15 * 86_400)
    /// Port of the Pub/Sub API (gRPC over plaintext HTTP/2) on `host`; nil: no Pub/Sub server and no change events
    /// recorded; 0 picks an ephemeral port (read it back from ``Emulator/pubSubPort``).
    public var pubSubPort: Int? = nil
    /// How long change events stay replayable, on the emulator's clock (Salesforce: 72 hours).
    public var changeEventRetention: Duration = .seconds(72 * 3600)
    /// An idle subscription gets an empty `FetchResponse` with the latest replay id this often (Salesforce: within
    /// 270 seconds).
    public var pubSubKeepalive: Duration = .seconds(30)

    public init() {}
}
