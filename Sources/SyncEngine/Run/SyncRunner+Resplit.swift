import Logging
import SalesforceClient

extension SyncRunner {
    /// How often one original range may be halved again. Two levels cover a range four times too big for one job;
    /// an org that still times out on a quarter of a range has a problem more jobs will not solve, and each level
    /// costs a job's wait before it shows.
    static let maxResplits = 2

    /// Why a smaller `Id` range could succeed where `error` failed, or nil when it could not (a SOQL, field or
    /// permission problem, a limit, an abort by someone else, cancellation): those fail the run as they are.
    ///
    /// Salesforce gives failed query jobs no error code, only `errorMessage` (and often none), so this reads the
    /// text, liberally: its documented answers to a query too big for one job are `QUERY_TIMEOUT` ("the query
    /// doesn't execute within the standard 2-minute timeout limit … rewrite a simpler query") and "Retried more
    /// than fifteen/thirty times" ("apply a filter criteria and try again"), and "Troubleshooting Query Timeouts"
    /// says to apply additional filter criteria — which is what a narrower range is.
    static func resplitReason(_ error: any Error) -> String? {
        guard let error = error as? SalesforceError else { return nil }
        switch error.code {
        case .timeout:
            return "the job did not finish within the client's wait"
        case .jobFailed:
            guard let text = error.serverMessage, !text.isEmpty else {
                return "the job failed without a reason, as query jobs that run too long often do"
            }
            let lowered = text.lowercased()
            let markers = ["timeout", "timed out", "time out", "too long", "retried more than"]
            return markers.contains(where: lowered.contains) ? "Salesforce: \(text)" : nil
        default:
            return nil
        }
    }

    /// The run's error when a range still fails after the re-splits it may have (or is too narrow to halve).
    static func rangeFailure(_ error: any Error, range: IdRange, resplits: Int) -> any Error {
        guard var failure = error as? SalesforceError else { return error }
        let why =
            resplits >= maxResplits
            ? "still failed after being split again \(resplits) times (at most \(maxResplits))"
            : "failed and is too narrow to split again"
        failure.message = "The Bulk job for Id range \(range) \(why): \(failure.message) Narrow the job's `where`, "
            + "raise `split`, or retry when the org is less busy."
        return failure
    }
}
