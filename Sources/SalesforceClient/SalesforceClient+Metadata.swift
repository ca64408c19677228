import Foundation

extension SalesforceClient {
    /// Describes an sObject's fields (`GET /sobjects/{object}/describe`).
    ///
    /// - Throws: `.http` with HTTP 404 / `NOT_FOUND` when the object does not exist or is not visible to the user.
    public func describe(_ object: String) throws -> SObjectDescription {
        let path = "\(dataPath)/sobjects/\(TokenRequest.percentEncode(object))/describe"
        let response = try send(APIRequest(method: .get, target: .instance(path), purpose: .describe(object: object)))
        return try SObjectDescription(describeBody: response.body, object: object)
    }

    /// The org's limits (`GET /limits`), keyed by name (`DailyApiRequests`, `DailyBulkV2QueryJobs`, …).
    public func limits() throws -> [String: OrgLimit] {
        let response = try send(APIRequest(method: .get, target: .instance("\(dataPath)/limits"), purpose: .control))
        return try OrgLimit.limits(fromBody: response.body)
    }

    /// Salesforce's estimate of each object's record count (`GET /limits/recordCount?sObjects=…`), keyed by
    /// object name; objects Salesforce does not list are absent. The counts are refreshed periodically by
    /// Salesforce, so they size work (how many ranges to split into), never prove completeness.
    public func recordCounts(of objects: [String]) throws -> [String: Int] {
        let path = APIRequest.path(
            "\(dataPath)/limits/recordCount", query: [("sObjects", objects.joined(separator: ","))])
        let response = try send(APIRequest(method: .get, target: .instance(path), purpose: .control))
        return try LenientJSON.decode(RecordCountAnswer.self, from: response.body, what: "recordCount response").counts
    }

    /// Records of `object` deleted between `start` and `end` (getDeleted), purged ones included.
    ///
    /// Salesforce answers for at most the last 15 days; check ``DeletedRecords/earliestDateAvailable`` against
    /// the last time deletes were read, and read again from ``DeletedRecords/latestDateCovered`` next time.
    /// - Throws: `.http` with Salesforce's code, e.g. `INVALID_REPLICATION_DATE` (a start older than 15 days) or
    ///   `EXCEEDED_ID_LIMIT` (more than 600,000 ids: narrow the window).
    public func deletedRecords(of object: String, from start: Date, to end: Date) throws -> DeletedRecords {
        let path = APIRequest.path(
            "\(dataPath)/sobjects/\(TokenRequest.percentEncode(object))/deleted/",
            query: [("start", SalesforceDateTime.format(start)), ("end", SalesforceDateTime.format(end))])
        let response = try send(APIRequest(method: .get, target: .instance(path), purpose: .describe(object: object)))
        return try LenientJSON.decode(DeletedRecords.self, from: response.body, what: "getDeleted response")
    }
}
