import Foundation
import Synchronization
import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// Which failed range jobs are split again: the ones a narrower query can fix.
@Suite struct ResplitClassificationTests {
    @Test(arguments: [
        ("QUERY_TIMEOUT: Your query request was running for too long.", true),
        ("InternalServerError : Retried more than 15 times", true),
        ("Retried more than fifteen times", true),
        ("Query timed out", true),
        ("", true),
        ("MALFORMED_QUERY: unexpected token: 'FROM'", false),
        ("INVALID_FIELD: No such column 'Foo__c' on entity 'Contact'", false),
        ("INSUFFICIENT_ACCESS: insufficient access rights on object id", false),
    ])
    func onlyFailuresASmallerRangeCanFixAreSplitAgain(message: String, resplit: Bool) {
        let error = SalesforceError(
            code: .jobFailed, message: "failed", errorCode: "Failed", serverMessage: message.isEmpty ? nil : message)
        #expect((SyncRunner.resplitReason(error) != nil) == resplit)
    }

    @Test func theClientsWaitBoundIsSplitAgainButNotOtherErrors() {
        #expect(SyncRunner.resplitReason(SalesforceError(code: .timeout, message: "still InProgress")) != nil)
        for code in [SalesforceError.Code.invalidQuery, .jobAborted, .cancelled, .requestLimitExceeded, .network] {
            #expect(SyncRunner.resplitReason(SalesforceError(code: code, message: "x")) == nil)
        }
    }
}

/// A split run whose range fails the way a too-big query does is split again and still loads everything once.
@Suite("Re-split ranges end to end", .timeLimit(.minutes(3)))
struct ResplitE2ETests {
    /// Runs `job` with `arm` called on the run's own ranges before its jobs exist; returns the outcome and ranges.
    static func run(
        _ world: E2EFixture, _ job: JobDefinition, jobTimeout: Duration? = nil, arm: @escaping (SplitRanges) -> Void
    ) throws -> (JobOutcome, SplitRanges) {
        let runner = try world.runner { configuration in
            if let jobTimeout { configuration.jobTimeout = jobTimeout }
        }
        var seen: SplitRanges?
        runner.beforeSplitJobs = { ranges in
            seen = ranges
            arm(ranges)
        }
        let outcome = runner.run(job, options: SyncOptions(mode: .full))
        let ranges = try #require(seen)
        try #require(ranges.count == 4)
        return (outcome, ranges)
    }

    static func loggedJobs(_ log: [String?]) -> [String] {
        (log[5] ?? "")?.split(separator: ",").map(String.init) ?? []
    }

    @Test func aRangeThatTimesOutOnceIsSplitAgainAndTheRunLoadsEverything() async throws {
        let world = try await SplitE2ETests.world()
        let job = try SplitE2ETests.job(world)
        let (outcome, ranges) = try Self.run(world, job) { ranges in
            world.emulator.faults.failQueries(containing: ranges.condition(1)!, count: 1)
        }
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(3))")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 300)
        #expect(try world.count("SELECT count(DISTINCT salesforce_id) FROM public.salesforce_contacts") == 300)
        // Four ranges, the second replaced by its halves: [b0, m) and [m, b1).
        let queries = SplitE2ETests.dataJobQueries(world)
        #expect(queries.count == 6, "\(queries)")
        let halves = queries.dropFirst(4)
        #expect(halves.first?.contains("Id >= '\(ranges.boundaries[0])' AND Id < '") == true, "\(halves)")
        #expect(halves.last?.contains("AND Id < '\(ranges.boundaries[1])'") == true, "\(halves)")
        let log = try #require(try SplitE2ETests.logs(world).last)
        #expect(log[0] == "success")
        #expect(log[2] == "300" && log[3] == "300" && log[4] == "300")
        // The log lists the five jobs whose results were loaded, not the failed one; every job was deleted.
        let ids = Self.loggedJobs(log)
        #expect(ids.count == 5 && Set(ids).count == 5, "\(ids)")
        #expect(outcome.salesforceJobId == ids.joined(separator: ","))
        let deleted = Set(world.jobIds(method: "DELETE"))
        #expect(deleted.isSuperset(of: ids))
        // 4 ranges + 2 halves + 2 one-row queries for the split + 2 for the failed range's own ends.
        #expect(deleted.count == 10)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }

    @Test func aRangeWhoseJobOutlastsTheClientsWaitIsAbortedAndSplitAgain() async throws {
        let world = try await SplitE2ETests.world()
        let job = try SplitE2ETests.job(world)
        // The first range's job stays InProgress far beyond the client's 1 s wait; its halves run normally.
        let (outcome, ranges) = try Self.run(world, job, jobTimeout: .seconds(1)) { _ in
            world.emulator.faults.slowInProgress(polls: 10_000, jobs: 1)
        }
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(3))")
        let queries = SplitE2ETests.dataJobQueries(world)
        #expect(queries.count == 6, "\(queries)")
        #expect(queries.last?.contains("AND Id < '\(ranges.boundaries[0])'") == true, "\(queries)")
        let ids = Self.loggedJobs(try #require(try SplitE2ETests.logs(world).last))
        #expect(ids.count == 5)
        // The job that outlasted the wait was aborted, then deleted with the rest.
        #expect(world.jobIds(method: "PATCH").count == 1)
        #expect(Set(world.jobIds(method: "DELETE")).count == 10)
    }

    @Test func theInFlightRecordHoldsTheReplacementJobsWhileTheyRun() async throws {
        // Slow jobs leave time to arm the next fault between the first jobs' creation and their halves'.
        let world = try await E2EFixture {
            $0.contactCount = 300
            $0.defaultPageSize = 100
            $0.jobProcessingDelay = .milliseconds(300)
        }
        let job = try SplitE2ETests.job(world)
        let cancellation = CancellationFlag()
        nonisolated(unsafe) let runner = try world.runner(cancellation: cancellation)
        runner.beforeSplitJobs = { ranges in world.emulator.faults.failQueries(containing: ranges.condition(3)!, count: 1) }
        let result = OutcomeBox()
        let thread = Thread { result.set(runner.run(job, options: SyncOptions(mode: .full))) }
        thread.start()
        // The split's two one-row queries, then the two that read the failed range's own ends: its halves come next.
        #expect(E2EFixture.waitUntil { world.jobCreations.compactMap(\.soql).filter { $0.contains("LIMIT 1") }.count >= 4 })
        // The halves of the last range never finish: the run is caught with them in flight.
        world.emulator.faults.slowInProgress(polls: 100_000, jobs: 2)
        func recorded() throws -> [String] {
            let text = try world.connection.execute("SELECT bulk_job_id FROM sfpg.sync_state").rows.first?[0] ?? nil
            return (text ?? "").split(separator: ",").map(String.init)
        }
        #expect(try E2EFixture.waitUntil { try recorded().count == 5 })
        #expect(SplitE2ETests.dataJobQueries(world).count == 6)
        // What a rerun after a kill would abandon: the five live jobs, not the failed one (already deleted, with
        // the two boundary queries of the split and the two that read the failed range's own ends).
        let deleted = Set(world.jobIds(method: "DELETE"))
        #expect(deleted.count == 5)
        #expect(Set(try recorded()).isDisjoint(with: deleted))
        let live = try recorded()
        cancellation.cancel()
        #expect(E2EFixture.waitUntil { result.get() != nil })
        #expect(result.get()?.status == .cancelled)
        #expect(Set(world.jobIds(method: "DELETE")).isSuperset(of: live))
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }

    @Test func aRangeThatKeepsTimingOutFailsTheRunNamingItAndCommitsNothing() async throws {
        let world = try await SplitE2ETests.world()
        let job = try SplitE2ETests.job(world)
        // Every job whose range ends at the first boundary fails: the first range, then its upper half, then that
        // half's upper half, which may not be split a third time.
        let (outcome, ranges) = try Self.run(world, job) { ranges in
            world.emulator.faults.failQueries(containing: "Id < '\(ranges.boundaries[0])'", count: 100)
        }
        #expect(outcome.status == .failure)
        let error = outcome.error ?? ""
        #expect(error.contains("Id range [") && error.contains(", \(ranges.boundaries[0]))"), "\(error)")
        #expect(error.contains("split again 2 times") && error.contains("QUERY_TIMEOUT"), "\(error)")
        #expect(SplitE2ETests.dataJobQueries(world).count == 8)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE watermark IS NOT NULL OR last_run_id IS NOT NULL") == 0)
        let log = try #require(try SplitE2ETests.logs(world).last)
        #expect(log[0] == "failed")
        // Every job of the run, failed or not, was deleted; none stays recorded as in flight.
        #expect(Set(world.jobIds(method: "DELETE")).count == world.jobCreations.count)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }

    @Test func aFailureASmallerRangeCannotFixIsNotSplitAgain() async throws {
        let world = try await SplitE2ETests.world()
        let job = try SplitE2ETests.job(world)
        let (outcome, _) = try Self.run(world, job) { ranges in
            world.emulator.faults.failQueries(
                containing: ranges.condition(2)!, count: 1,
                errorMessage: "INVALID_FIELD: No such column 'Foo__c' on entity 'Contact'")
        }
        #expect(outcome.status == .failure)
        #expect(outcome.error?.contains("INVALID_FIELD") == true, "\(outcome.error ?? "")")
        #expect(SplitE2ETests.dataJobQueries(world).count == 4)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        #expect(try SplitE2ETests.logs(world).last?[0] == "failed")
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }
}

/// The outcome of a run on another thread.
final class OutcomeBox: Sendable {
    private let outcome = Mutex<JobOutcome?>(nil)
    func set(_ value: JobOutcome) { outcome.withLock { $0 = value } }
    func get() -> JobOutcome? { outcome.withLock { $0 } }
}
