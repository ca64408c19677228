extension SalesforceClient {
    /// Describes an sObject's fields (`GET /sobjects/{object}/describe`).
    ///
    /// - Throws: `.http` with HTTP 404 / `NOT_FOUND` when the object does not exist or is not visible to the user.
    public func describe(_ object: String) throws -> SObjectDescription {
        let response = try send(
            "GET", "\(dataPath)/sobjects/\(TokenRequest.percentEncode(object))/describe",
            describeFailure: { status, server in
                guard status == 404 else { return nil }
                let reason = server?.message ?? "not found"
                return SalesforceError(
                    code: .http,
                    message: "Salesforce has no object '\(object)' visible to this user (\(reason)). Check the API "
                        + "name (custom objects end in __c) and the user's permissions.",
                    httpStatus: status, errorCode: server?.errorCode)
            })
        return try SObjectDescription(describeBody: response.body, object: object)
    }

    /// The org's limits (`GET /limits`), keyed by name (`DailyApiRequests`, `DailyBulkV2QueryJobs`, …).
    public func limits() throws -> [String: OrgLimit] {
        let response = try send("GET", "\(dataPath)/limits")
        return try OrgLimit.limits(fromBody: response.body)
    }
}
