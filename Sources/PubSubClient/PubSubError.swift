import Avro
import GRPCCore

/// A failed Pub/Sub call, by what the caller does about it: ``Code-swift.struct/authentication`` (log in again,
/// resubscribe), ``Code-swift.struct/replayIdInvalid`` (the stored replay id is outside the 72-hour retention window
/// or not a replay id: catch up with a batch run, resubscribe from LATEST), ``Code-swift.struct/streamDropped``
/// (resubscribe from the last stored replay id), ``Code-swift.struct/decoding`` (an event this client cannot read
/// with its schema).
///
/// `description` never holds a token: the messages are the server's status message and Salesforce's `error-code`.
public struct PubSubError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public static let authentication = Code(rawValue: "authentication")
        public static let replayIdInvalid = Code(rawValue: "replay id invalid")
        public static let streamDropped = Code(rawValue: "stream dropped")
        public static let topicNotFound = Code(rawValue: "topic not found")
        public static let decoding = Code(rawValue: "decoding")
        public static let failed = Code(rawValue: "failed")
        public var description: String { rawValue }
    }

    public var code: Code
    public var message: String
    /// Salesforce's Pub/Sub error code from the `error-code` trailer (`sfdc.platform.eventbus.grpc.…`), if any.
    public var salesforceCode: String?

    public init(code: Code, message: String, salesforceCode: String? = nil) {
        (self.code, self.message, self.salesforceCode) = (code, message, salesforceCode)
    }

    public var description: String {
        "Pub/Sub API: \(message)" + (salesforceCode.map { " (\($0))" } ?? "")
    }

    /// Classifies what a call threw; liberal in what it reads, since Salesforce documents codes, not every status.
    static func from(_ error: any Error, doing what: String) -> PubSubError {
        if let error = error as? PubSubError { return error }
        if let error = error as? AvroError {
            return PubSubError(code: .decoding, message: "\(what): an event did not decode with its schema: \(error)")
        }
        guard let rpc = error as? RPCError else {
            return PubSubError(code: .streamDropped, message: "\(what): the connection failed (\(error)).")
        }
        let salesforceCode = rpc.metadata[stringValues: "error-code"].first { _ in true }
        let sfCode = salesforceCode?.lowercased() ?? "", text = rpc.message.lowercased()
        let code: Code =
            if rpc.code == .unauthenticated || sfCode.contains("auth") { .authentication }
            else if sfCode.contains("replayid") || (rpc.code == .invalidArgument && text.contains("replay")) { .replayIdInvalid }
            else if sfCode.contains("topic") || (rpc.code == .notFound && text.contains("topic")) { .topicNotFound }
            else if [.unavailable, .cancelled, .aborted, .deadlineExceeded, .internalError, .unknown].contains(rpc.code) {
                .streamDropped
            } else { .failed }
        return PubSubError(code: code, message: "\(what): \(rpc.code): \(rpc.message)", salesforceCode: salesforceCode)
    }
}
