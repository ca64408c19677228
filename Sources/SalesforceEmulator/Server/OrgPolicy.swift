/// Limits and refusals of the emulated org that tests change at run time (admin `POST /__emulator/policy`).
/// Defaults are Salesforce's documented values, or off where Salesforce has no fixed threshold.
struct OrgPolicy: Sendable {
    /// Aggregate queries (`COUNT()` and the rest) that read more records than this fail with `QUERY_TIMEOUT`, as
    /// they do on large objects; nil: never.
    var aggregateTimeoutRecords: Int?
    /// getDeleted and getUpdated fail with `EXCEEDED_ID_LIMIT` past this many Ids.
    var replicationIdLimit = 600_000
    /// A query whose selected fields weigh more than this fails with `QUERY_TOO_COMPLICATED`; nil: never. Each field
    /// weighs 1, a formula field ``formulaFieldWeight``.
    var maxQueryWeight: Int?
    var formulaFieldWeight = 10
    /// Objects (lower-cased) that describe as `replicateable: false` and refuse getDeleted and getUpdated.
    var nonReplicateableObjects: Set<String> = []
    /// Objects (lower-cased) whose Bulk query jobs are refused with `INVALIDENTITY`.
    var bulkUnsupportedObjects: Set<String> = []
    /// Daily allowances reported by `/limits` and enforced.
    var dailyApiRequests: Int
    var dailyBulkV2QueryJobs = 10_000
    var dailyBulkV2QueryFileStorageMB = 976_562

    init(_ configuration: EmulatorConfiguration) {
        aggregateTimeoutRecords = configuration.aggregateTimeoutRecords
        replicationIdLimit = configuration.replicationIdLimit
        maxQueryWeight = configuration.maxQueryWeight
        formulaFieldWeight = configuration.formulaFieldWeight
        bulkUnsupportedObjects = Set(configuration.bulkUnsupportedObjects.map { $0.lowercased() })
        nonReplicateableObjects = Set(configuration.nonReplicateableObjects.map { $0.lowercased() })
        dailyApiRequests = configuration.dailyApiRequests
    }

    /// Salesforce's limit on the length of a SOQL statement.
    static let maxSOQLLength = 100_000
}
