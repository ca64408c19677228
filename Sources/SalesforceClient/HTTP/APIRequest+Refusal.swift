extension APIRequest.Purpose {
    /// What a refused request (a 4xx that no retry can change) means for this purpose, in words the user can act
    /// on; `nil` keeps the generic HTTP error.
    func refusal(status: Int, server: ServerError?) -> SalesforceError? {
        func refused(_ code: SalesforceError.Code, _ message: String) -> SalesforceError {
            SalesforceError(
                code: code, message: message, httpStatus: status, errorCode: server?.errorCode, serverMessage: server?.message)
        }
        switch self {
        case .token(let grant, let loginURL):
            guard (400..<500).contains(status) else { return nil }
            return TokenRequest.failure(grant: grant, status: status, server: server, loginURL: loginURL)
        case .createQueryJob:
            guard status == 400 || status == 404 else { return nil }
            return refused(
                .invalidQuery,
                "Salesforce rejected the bulk query: \(server?.message ?? "no message"). Check the SOQL "
                    + "(fields, object, and that it avoids GROUP BY, OFFSET, aggregates, subqueries and compound "
                    + "fields, which Bulk API 2.0 does not support).")
        case .restQuery:
            guard status == 400 else { return nil }
            return refused(
                .invalidQuery,
                "Salesforce rejected the query: \(server?.message ?? "no message"). Check the SOQL's fields "
                    + "and object.")
        case .describe(let object):
            guard status == 404 else { return nil }
            return refused(
                .configuration,
                "Salesforce has no object '\(object)' visible to this user (\(server?.message ?? "not found")). "
                    + "Check the API name (custom objects end in __c) and the user's permissions.")
        case .resultPage(let number, let apiVersion):
            guard status == 412 || status == 409 || status == 404 else { return nil }
            return refused(
                .http,
                "Salesforce refused the results of page \(number): \(server?.message ?? "no message"). "
                    + "Results need a JobComplete job that still exists (jobs expire after 7 days) and the "
                    + "same API version the job was created with (\(apiVersion) here).")
        case .control:
            return nil
        }
    }
}
