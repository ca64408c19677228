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
                    code: .configuration,
                    message: "Salesforce has no object '\(object)' visible to this user (\(reason)). Check the API "
                        + "name (custom objects end in __c) and the user's permissions.",
                    httpStatus: status, errorCode: server?.errorCode)
            })
        let json = try JSONObject(parsing: response.body, what: "describe response")
        return SObjectDescription(
            name: json.string("name") ?? object, fields: json.objects("fields").compactMap(FieldDescription.init))
    }

    /// The org's limits (`GET /limits`), keyed by name (`DailyApiRequests`, `DailyBulkV2QueryJobs`, …).
    public func limits() throws -> [String: OrgLimit] {
        let response = try send("GET", "\(dataPath)/limits")
        let json = try JSONObject(parsing: response.body, what: "limits response")
        var limits: [String: OrgLimit] = [:]
        for key in json.storage.keys {
            guard let entry = json.object(key), let max = entry.int("Max"), let remaining = entry.int("Remaining")
            else { continue }
            limits[key] = OrgLimit(max: max, remaining: remaining)
        }
        return limits
    }
}
