import Foundation
import PostgresLoader
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// Which logical run a shard joins, and what one logical run may hold: one job definition, one unfinished run per
/// job, a key the ranges can own, a sweep bound over the whole run (issue 17, finding 4).
@Suite("Sharded runs: identity and scope", .timeLimit(.minutes(3)))
struct ShardRunIdentityTests {
    static func shard(_ index: Int, run: String?, _ runner: SyncRunner, _ job: JobDefinition) -> JobOutcome {
        runner.run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: index, count: 4, runName: run)))
    }

    @Test func aShardNeedsTheJobKeyedOnId() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        try world.connection.executeScript(
            "CREATE TABLE by_email (email text PRIMARY KEY, last_name text, system_modstamp timestamptz NOT NULL)")
        let job = try world.writeJob(
            """
            object: Contact
            table: by_email
            key: Email
            fields:
              Email: email
              LastName: last_name
              SystemModstamp: system_modstamp
            deletes: ignore
            """, name: "by_email")
        let outcome = Self.shard(0, run: "r", try world.runner(), job)
        #expect(outcome.status == .configuration)
        #expect(outcome.error?.contains("key is 'Email'") == true, "\(outcome.error ?? "")")
        #expect(world.jobCreations.isEmpty)
    }

    @Test func aShardOfAnotherJobDefinitionIsRefused() async throws {
        let world = try await E2EFixture { $0.contactCount = 80 }
        let job = try world.job("contacts")
        let runner = try world.runner()
        #expect(Self.shard(0, run: "night", runner, job).status == .success)
        var edited = job
        edited.whereClause = "Email != null"
        let refused = Self.shard(1, run: "night", runner, edited)
        #expect(refused.status == .configuration)
        #expect(refused.error?.contains("another definition of the job") == true, "\(refused.error ?? "")")
        // The original definition still completes the run.
        for index in 1..<4 { #expect(Self.shard(index, run: "night", runner, job).status == .success) }
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs WHERE finished_at IS NOT NULL") == 1)
    }

    @Test func aNewRunAbandonsTheUnfinishedOneWhoseShardsCanNoLongerCommit() async throws {
        let world = try await E2EFixture { $0.contactCount = 80 }
        let job = try world.job("contacts")
        let runner = try world.runner()
        #expect(Self.shard(0, run: "monday", runner, job).status == .success)
        #expect(Self.shard(0, run: "tuesday", runner, job).status == .success)
        let late = Self.shard(1, run: "monday", runner, job)
        #expect(late.status == .configuration)
        #expect(late.error?.contains("abandoned") == true, "\(late.error ?? "")")
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs WHERE abandoned_at IS NULL AND finished_at IS NULL") == 1)
        for index in 1..<4 { #expect(Self.shard(index, run: "tuesday", runner, job).status == .success) }
        #expect(try world.differences(job).isEmpty)
    }

    @Test func anUnnamedShardDoesNotCompleteAnOldRun() async throws {
        let world = try await E2EFixture { $0.contactCount = 80 }
        let job = try world.job("contacts")
        let runner = try world.runner()
        #expect(Self.shard(0, run: nil, runner, job).status == .success)
        // Last night's run, still unfinished: tonight's shards must not complete it with tonight's snapshot.
        try world.connection.execute("UPDATE sfpg.shard_runs SET started_at = now() - interval '20 hours'")
        for index in 0..<4 { #expect(Self.shard(index, run: nil, runner, job).status == .success) }
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs") == 2)
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs WHERE finished_at IS NOT NULL AND abandoned_at IS NULL") == 1)
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs WHERE abandoned_at IS NOT NULL") == 1)
    }

    /// 36 records in 4 shards of 9: 10% of a shard's 9 rows is 0, so a bound per shard refused every real delete;
    /// over the whole run it is 10% of 36.
    @Test func theSweepBoundHoldsOverTheWholeRun() async throws {
        let world = try await E2EFixture { $0.contactCount = 36 }
        let job = try world.job("contacts")
        let runner = try world.runner()
        for index in 0..<4 { #expect(Self.shard(index, run: "first", runner, job).status == .success) }
        let gone = world.emulator.org.ids("Contact", includeDeleted: false).sorted()[20]
        world.emulator.org.hardDelete("Contact", id: gone)
        for index in 0..<4 {
            let outcome = Self.shard(index, run: "second", runner, job)
            #expect(outcome.status == .success, "shard \(index): \(outcome.error ?? "")")
        }
        #expect(try world.connection.execute(
            "SELECT is_deleted::text FROM public.salesforce_contacts WHERE salesforce_id = $1", [gone]).rows.first?.first == "true")
        // Four deletes are more than 10% of 36: the run is refused somewhere, and nothing past the bound is swept.
        for id in world.emulator.org.ids("Contact", includeDeleted: false).sorted().prefix(4) {
            world.emulator.org.hardDelete("Contact", id: id)
        }
        let outcomes = (0..<4).map { Self.shard($0, run: "third", runner, job) }
        #expect(outcomes.contains { $0.error?.contains("max_sweep") == true }, "\(outcomes.compactMap(\.error))")
    }
}
