import Logging
import SalesforceClient

/// One Bulk job of a run and the `Id` range it reads (nil when the run reads everything with one job).
struct RangeJob: Sendable {
    var id: String
    var range: IdRange?
    /// How often this range's ancestors were split again because their job failed.
    var resplits: Int
}

/// A split run's ranges and the signature its in-flight jobs are recorded under.
struct SplitRun {
    var ranges: SplitRanges
    var signature: String
}

extension SyncRunner {
    /// How often one original range may be halved again. Two levels cover a range four times too big for one job;
    /// an org that still times out on a quarter of a range has a problem more jobs will not solve, and each level
    /// costs a job's wait before it shows.
    static let maxResplits = 2

    /// Waits for each job in range order and returns them completed. A split range whose job failed in a way a
    /// smaller range can fix (``resplitReason(_:)``) is abandoned and replaced by two jobs over its halves, at most
    /// ``maxResplits`` deep; `jobs` always holds exactly the live jobs, whose ranges together are the original ones,
    /// and the same list is recorded as in flight so a killed process's rerun can abandon them.
    func waitForRangeJobs(
        _ jobs: inout [RangeJob], split: SplitRun?, plan: SyncPlan, job: JobDefinition, logger: Logger
    ) throws -> [QueryJob] {
        var completed: [QueryJob] = []
        var index = 0
        while index < jobs.count {
            let current = jobs[index]
            do {
                let done = try client.waitForCompletion(current.id)
                completed.append(done)
                index += 1
                logger.info("bulk query complete", metadata: ["sf.job": "\(done.id)", "sf.records": "\(done.numberRecordsProcessed ?? -1)"])
                continue
            } catch {
                guard !cancellation.isCancelled, let split, let range = current.range,
                    let reason = Self.resplitReason(error)
                else { throw error }
                guard current.resplits < Self.maxResplits,
                    let (lowerHalf, upperHalf) = halves(of: range, in: split.ranges, plan: plan, logger: logger)
                else {
                    throw Self.rangeFailure(error, range: range, resplits: current.resplits)
                }
                logger.warning(
                    "re-splitting an Id range whose bulk job failed",
                    metadata: [
                        "sf.job": "\(current.id)", "sf.range": "\(range)", "sync.resplit_reason": "\(reason)",
                        "sync.resplits": "\(current.resplits + 1)", "sync.halves": "\(lowerHalf) \(upperHalf)",
                    ])
                abandon(current.id, logger: logger)
                jobs.remove(at: index)
                // The record always equals `jobs`, which the caller abandons and forgets on failure; the other
                // ranges' jobs keep the list non-empty.
                func record() throws {
                    try store.recordInFlightBulkJob(
                        jobs.map(\.id).joined(separator: ","), query: split.signature, jobName: job.name,
                        objectName: job.object, table: job.table)
                }
                try record()
                for (offset, half) in [lowerHalf, upperHalf].enumerated() {
                    let created = try client.createQueryJob(plan.soql(range: half.condition), operation: plan.operation)
                    jobs.insert(RangeJob(id: created.id, range: half, resplits: current.resplits + 1), at: index + offset)
                    // As for the first jobs: recorded before anything else happens, so a rerun finds the replacements.
                    try record()
                    logger.info(
                        "bulk query submitted",
                        metadata: [
                            "sf.job": "\(created.id)", "sf.operation": "\(plan.operation.rawValue)",
                            "sf.range": "\(half.condition ?? "all")",
                        ])
                }
            }
        }
        return completed
    }

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
