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
}
