import Foundation
import Logging

extension SalesforceClient {
    /// Creates a Bulk API 2.0 query job (CSV, comma-delimited, LF line endings).
    ///
    /// - Throws: `.invalidQuery` when Salesforce rejects the SOQL (with its errorCode and message).
    public func createQueryJob(_ soql: String, operation: QueryOperation) throws -> QueryJob {
        let body = try LenientJSON.encode(QueryJobRequest(operation: operation.rawValue, query: soql))
        let response = try send(
            APIRequest(
                method: .post, target: .instance("\(dataPath)/jobs/query"), purpose: .createQueryJob, body: .json(body)))
        let job = try LenientJSON.decode(QueryJob.self, from: response.body, what: "query job")
        bulkJobsCreated += 1
        logger.debug("Created query job", metadata: ["sf.job": "\(job.id)", "sf.object": "\(job.object ?? "?")"])
        return job
    }

    /// Reads a job's current state.
    public func queryJob(_ id: String) throws -> QueryJob {
        let response = try send(
            APIRequest(method: .get, target: .instance("\(dataPath)/jobs/query/\(id)"), purpose: .control))
        return try LenientJSON.decode(QueryJob.self, from: response.body, what: "query job")
    }

    /// Polls until the job is `JobComplete`, with capped exponential backoff and jitter.
    ///
    /// On cancellation or timeout the server job is aborted (best effort) before the error is thrown.
    /// - Throws: `.jobFailed` (Salesforce's message, or advice when it gave none), `.jobAborted`, `.timeout`,
    ///   `.cancelled`.
    public func waitForCompletion(_ id: String) throws -> QueryJob {
        let deadline = ContinuousClock.now + configuration.jobTimeout
        var interval = seconds(configuration.pollInitialInterval)
        do {
            while true {
                let job = try queryJob(id)
                switch job.state {
                case .jobComplete:
                    logger.debug(
                        "Query job complete",
                        metadata: ["sf.job": "\(id)", "sf.records": .stringConvertible(job.numberRecordsProcessed ?? -1)])
                    return job
                case .failed:
                    throw SalesforceError(
                        code: .jobFailed,
                        message: "Bulk query job \(id) failed: "
                            + (job.errorMessage.map { "\($0)." }
                                ?? "Salesforce gave no reason (query jobs often fail without one). Narrow the WHERE "
                                + "filter, remove ORDER BY/LIMIT, check the fields, or retry later."),
                        errorCode: "Failed", serverMessage: job.errorMessage)
                case .aborted:
                    throw SalesforceError(
                        code: .jobAborted,
                        message: "Bulk query job \(id) was aborted on the Salesforce side (by a user or an admin).",
                        errorCode: "Aborted")
                case .uploadComplete, .inProgress, .unknown:
                    break
                }
                let remaining = deadline - ContinuousClock.now
                guard remaining > .zero else {
                    throw SalesforceError(
                        code: .timeout,
                        message: "Bulk query job \(id) was still \(job.state) after \(configuration.jobTimeout); "
                            + "narrow the query or raise the job timeout.")
                }
                try sleep(seconds: min(interval * Double.random(in: 0.8...1.2), seconds(remaining)))
                interval = nextPollInterval(after: interval)
            }
        } catch let error as SalesforceError where error.code == .cancelled || error.code == .timeout {
            abortQuietly(id)
            throw error
        }
    }

    /// The wait after a poll that found the job unfinished. ×1.5 rather than ×2: a job that completes just after a
    /// poll costs less idle waiting (measured: up to ~1.5 s per run at 2–4 s jobs), while a minutes-long job still
    /// polls only every pollMaxInterval.
    func nextPollInterval(after interval: Double) -> Double {
        min(interval * 1.5, seconds(configuration.pollMaxInterval))
    }

    /// The status calls ``waitForCompletion(_:)`` makes for a job that takes `jobSeconds` (its jitter averages out):
    /// what a forecast counts, from the same schedule.
    public func expectedPolls(forJobSeconds jobSeconds: Double) -> Int {
        var (polls, waited, interval) = (1, 0.0, max(0.001, seconds(configuration.pollInitialInterval)))
        while waited < jobSeconds {
            waited += interval
            interval = nextPollInterval(after: interval)
            polls += 1
        }
        return polls
    }

    /// Aborts a job still in `UploadComplete` or `InProgress` (`PATCH {"state":"Aborted"}`).
    public func abortJob(_ id: String) throws {
        _ = try abort(id, honorCancellation: true)
    }

    /// Deletes a terminal job and its results (`DELETE`, 204); the body is not parsed.
    public func deleteJob(_ id: String) throws {
        _ = try send(
            APIRequest(method: .delete, target: .instance("\(dataPath)/jobs/query/\(id)"), purpose: .control))
        logger.debug("Deleted query job", metadata: ["sf.job": "\(id)"])
    }

    private func abort(_ id: String, honorCancellation: Bool) throws -> HTTPResponse {
        let response = try send(
            APIRequest(
                method: .patch, target: .instance("\(dataPath)/jobs/query/\(id)"), purpose: .control,
                body: .json(Array(#"{"state":"Aborted"}"#.utf8)), honorsCancellation: honorCancellation))
        logger.debug("Aborted query job", metadata: ["sf.job": "\(id)"])
        return response
    }

    /// Used after cancellation: the abort itself must not be cancelled, and its failure must not hide the cause.
    func abortQuietly(_ id: String) {
        do {
            _ = try abort(id, honorCancellation: false)
        } catch {
            logger.debug("Could not abort query job", metadata: ["sf.job": "\(id)", "error": "\(error)"])
        }
    }
}

/// The body of `POST /jobs/query`: CSV, comma-delimited, LF line endings (what the loader's COPY expects).
struct QueryJobRequest: Encodable {
    var operation: String
    var query: String
    var contentType = "CSV"
    var columnDelimiter = "COMMA"
    var lineEnding = "LF"
}
