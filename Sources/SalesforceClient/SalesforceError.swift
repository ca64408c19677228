/// The one error type of the Salesforce client.
///
/// `description` is safe to show to users: it never contains tokens, passwords, keys or client secrets.
/// Branch on ``code`` (and ``errorCode`` for Salesforce's own code), not on the message text.
public struct SalesforceError: Error, CustomStringConvertible, Sendable {
    /// A small, open set of failure kinds; new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The settings are incomplete or contradictory (environment, URLs, key file).
        public static let configuration = Code("configuration")
        /// The token endpoint refused the credentials.
        public static let authentication = Code("authentication")
        /// The session expired and could not be renewed (e.g. a fixed access token).
        public static let invalidSession = Code("invalidSession")
        /// The org's daily API request limit is exhausted (`REQUEST_LIMIT_EXCEEDED`); never retried.
        public static let requestLimitExceeded = Code("requestLimitExceeded")
        /// Salesforce rejected the SOQL (`MALFORMED_QUERY`, `INVALID_FIELD`, …).
        public static let invalidQuery = Code("invalidQuery")
        /// The query job ended in `Failed`.
        public static let jobFailed = Code("jobFailed")
        /// The query job ended in `Aborted` (by someone else, or by our cancellation).
        public static let jobAborted = Code("jobAborted")
        /// The job did not finish within `jobTimeout`, or a transfer stalled.
        public static let timeout = Code("timeout")
        /// A transport failure (DNS, connect, TLS, reset) that outlasted the retries.
        public static let network = Code("network")
        /// The server's TLS certificate is not trusted (or the handshake failed): a CA setting to fix, not retried.
        public static let tls = Code("tls")
        /// An HTTP error status not covered by a more specific code.
        public static let http = Code("http")
        /// The ``CancellationFlag`` was set.
        public static let cancelled = Code("cancelled")
        /// The server answered something the protocol does not allow (unparseable JSON, missing fields).
        public static let protocolViolation = Code("protocolViolation")
        /// Results could not be received completely: a page stayed cut short, corrupt or inconsistent with
        /// `Sforce-NumberOfRecords` after every retry, or the page chain disagrees with the job's record count
        /// (repeats a locator, ends early, or delivers more records than the job has).
        public static let incompleteResults = Code("incompleteResults")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, on what, and what to do about it.
    public var message: String
    /// The HTTP status of the response that caused the error, if there was one.
    public var httpStatus: Int?
    /// Salesforce's `errorCode` (REST/Bulk) or the OAuth `error` value.
    public var errorCode: String?
    /// Salesforce's own words, verbatim, where a caller branches on them: a failed query job's `errorMessage`
    /// (query jobs carry no error code, so whether a smaller query could succeed is only in this text).
    public var serverMessage: String?

    /// Creates an error; `message` must not contain secrets.
    public init(
        code: Code, message: String, httpStatus: Int? = nil, errorCode: String? = nil, serverMessage: String? = nil
    ) {
        (self.code, self.message, self.httpStatus) = (code, message, httpStatus)
        (self.errorCode, self.serverMessage) = (errorCode, serverMessage)
    }

    public var description: String {
        let context = [httpStatus.map { "HTTP \($0)" }, errorCode].compactMap { $0 }
        let suffix = context.isEmpty ? "" : " [\(context.joined(separator: ", "))]"
        return "Salesforce \(code): \(message)\(suffix)"
    }

    static func cancelled() -> SalesforceError {
        SalesforceError(code: .cancelled, message: "The operation was cancelled.")
    }
}
