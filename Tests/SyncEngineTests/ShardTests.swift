import Foundation
@testable import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// `--shard I/N` parsing and the ranges a shard owns.
@Suite struct ShardSpecTests {
    @Test func parsesIndexCountAndRunName() throws {
        #expect(try ShardSpec(parsing: "0/4") == ShardSpec(index: 0, count: 4))
        #expect(try ShardSpec(parsing: "3/4", runName: "nightly") == ShardSpec(index: 3, count: 4, runName: "nightly"))
        #expect(try ShardSpec(parsing: "63/64").count == 64)
    }

    @Test(arguments: ["4/4", "-1/4", "0/1", "0/0", "a/4", "1", "1/4/2", "", "0/65", "1/ 4", "/4"])
    func rejectsAnythingElseAsACommandLineError(text: String) {
        #expect {
            try ShardSpec(parsing: text)
        } throws: { error in
            guard let error = error as? SyncError else { return false }
            return error.exitStatus == .commandLine && error.message.hasPrefix("--shard")
        }
    }

    @Test func eachShardOwnsOneRangeOfTheRecordedBoundaries() {
        func slot(_ index: Int, _ boundaries: [String]) -> ShardSlot {
            ShardSlot(
                runId: 1, runName: "r", logId: 1, index: index, count: 4, boundaries: boundaries, alreadySucceeded: false,
                leftoverBulkJobId: nil, attempt: 1)
        }
        let b = ["003000000000100", "003000000000200", "003000000000300"]
        #expect(slot(0, b).range == KeyRange(lower: nil, upper: b[0]))
        #expect(slot(1, b).range == KeyRange(lower: b[0], upper: b[1]))
        #expect(slot(3, b).range == KeyRange(lower: b[2], upper: nil))
        // Fewer ranges than shards (an empty object, or Ids too close together): the extra shards own nothing.
        #expect(slot(0, []).range == .all)
        #expect(slot(1, []).range == KeyRange.none)
        #expect(slot(2, [b[0]]).range == KeyRange.none)
        #expect(KeyRange.none.sqlCondition(column: "t.k", firstParameter: 1) != nil)
        #expect(KeyRange.all.sqlCondition(column: "t.k", firstParameter: 1) == nil)
    }
}

/// Collects the Id column of Bulk result pages.
final class IdCollector: ResultPageConsumer {
    private var bytes: [UInt8] = []
    private(set) var ids: [String] = []

    func beginPage(_ number: Int) throws { bytes.removeAll() }
    func consume(_ buffer: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: buffer) }
    func finishPage(_ number: Int, recordCount: Int) throws {
        let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).dropFirst()
        ids += lines.map { $0.trimmingCharacters(in: .init(charactersIn: "\"\r ")) }
    }
    func discardPage(_ number: Int) throws { bytes.removeAll() }
}

/// Sharded full runs (`sfpg run contacts --full --shard I/N`) against the emulator and a real PostgreSQL.
@Suite("Sharded full runs end to end", .serialized, .timeLimit(.minutes(5)))
struct ShardE2ETests {
    static let jobArguments = ["--jobs-directory", E2EFixture.jobsDirectory]

    static func world(contacts: Int = 400) async throws -> E2EFixture {
        try await E2EFixture {
            $0.contactCount = contacts
            $0.defaultPageSize = 60
        }
    }

    static func shardArguments(_ index: Int, of count: Int = 4, run: String?) -> [String] {
        ["run", "contacts", "--full", "--shard", "\(index)/\(count)"] + (run.map { ["--shard-run", $0] } ?? []) + jobArguments
    }

    /// The run-log rows: status, records processed, Bulk job ids, watermark after (ISO).
    static func logs(_ world: E2EFixture) throws -> [[String?]] {
        try world.connection.execute(
            """
            SELECT status, records_processed::text, salesforce_job_id,
                to_char(watermark_after AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
            FROM sfpg.sync_logs ORDER BY id
            """).rows
    }

    static func watermark(_ world: E2EFixture) throws -> String? {
        try SyncStore(world.connection).state(ofJob: "contacts").watermark
    }

    static func boundaries(_ world: E2EFixture, run: String) throws -> [String] {
        let text = try world.connection.execute(
            "SELECT array_to_string(boundaries, ',') FROM sfpg.shard_runs WHERE run_name = $1", [run]).rows.first?.first ?? nil
        return (text ?? "").split(separator: ",").map(String.init)
    }

    /// The watermark rule, computed from the emulator's truth alone: per range, the largest SystemModstamp of its
    /// records; then the smallest of those.
    static func minimumRule(_ world: E2EFixture, job: JobDefinition, boundaries: [String]) throws -> String {
        let modstamp = try #require(job.fields.firstIndex { $0.source == "SystemModstamp" })
        let ranges = SplitRanges(boundaries: boundaries)
        var maxima: [String] = []
        for index in 0..<ranges.count {
            let stamps = world.truth(job).filter { SplitRangesTests.rangeIndex($0[0] ?? "", ranges) == [index] }
                .compactMap { $0[modstamp] }
            if let largest = stamps.max() { maxima.append(largest) }
        }
        return try #require(maxima.min())
    }

    @Test("4 shards started together leave the table equal to the truth, in one logical run")
    func fourConcurrentShardsMatchTheTruthInOneLogicalRun() async throws {
        let world = try await Self.world()
        let job = try world.job("contacts")
        let processes = try (0..<4).map { try world.spawn(Self.shardArguments($0, run: "nightly-1")) }
        for (index, process) in processes.enumerated() {
            #expect(process.wait(timeout: .seconds(120)) == 0, "shard \(index): \(process.standardError)")
        }
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(5))")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 400)

        // One logical run: one run-log row, success, every shard's Bulk job, the summed counts.
        let logs = try Self.logs(world)
        #expect(logs.count == 1, "\(logs)")
        #expect(logs.first?[0] == "success")
        #expect(logs.first?[1] == "400")
        let bulkJobs = (logs.first?[2] ?? "")?.split(separator: ",") ?? []
        #expect(bulkJobs.count == 4)
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs WHERE finished_at IS NOT NULL") == 1)
        #expect(try world.count("SELECT count(*) FROM sfpg.shards WHERE status = 'succeeded' AND attempts = 1") == 4)
        // Four data jobs, each over one range, plus the first shard's two boundary queries: nobody else computed
        // ranges.
        let queries = world.jobCreations.compactMap(\.soql)
        #expect(queries.filter { $0.contains("LIMIT 1") }.count == 2)
        #expect(queries.filter { !$0.contains("LIMIT 1") }.count == 4)

        // The watermark: set once, by the last shard, to the minimum over the shards of their largest modstamp.
        let boundaries = try Self.boundaries(world, run: "nightly-1")
        #expect(boundaries.count == 3)
        let expected = try Self.minimumRule(world, job: job, boundaries: boundaries)
        #expect(try Self.watermark(world) == expected)
        #expect(logs.first?[3] == expected)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE last_run_id IS NOT NULL") == 1)

        // `sfpg status` shows the run once, with its shards.
        let status = try world.sfpg(["status"] + Self.jobArguments)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("shards:     run nightly-1, 0: succeeded, 1: succeeded, 2: succeeded, 3: succeeded"), "\(status.stdout)")
        #expect(status.stdout.components(separatedBy: "last run:").count == 2)

        // A finished run is not joined again: a reused name would turn every later run into a no-op.
        let creations = world.jobCreations.count
        let again = try world.sfpg(Self.shardArguments(2, run: "nightly-1"))
        #expect(again.status == 2, "\(again.stderr)")
        #expect(again.stderr.contains("already complete; pick a new run name"), "\(again.stderr)")
        #expect(!again.stdout.contains("FAILED"), "\(again.stdout)")
        #expect(world.jobCreations.count == creations)
        #expect(try Self.logs(world).count == 1)
    }

    @Test("a shard killed mid-download blocks the run's completion; its rerun alone completes it")
    func killedShardIsRerunAloneAndCompletesTheRun() async throws {
        let world = try await Self.world()
        let job = try world.job("contacts")
        try world.sync(job, .full)
        let watermarkBefore = try #require(try Self.watermark(world))
        world.emulator.org.randomRound("Contact", seed: 21, inserts: 30, updates: 60, softDeletes: 10, undeletes: 0, hardDeletes: 5)
        // The last shard's query is the only one with a lower bound and no upper one: its pages come slowly.
        world.emulator.faults.slowResults(by: .seconds(60)) { $0.contains("Id >= ") && !$0.contains("Id < ") }
        let processes = try (0..<4).map { try world.spawn(Self.shardArguments($0, run: "night-2")) }
        for index in 0..<3 {
            #expect(processes[index].wait(timeout: .seconds(120)) == 0, "shard \(index): \(processes[index].standardError)")
        }
        let downloading = try E2EFixture.waitUntil {
            let job = try world.connection.execute(
                """
                SELECT s.bulk_job_id FROM sfpg.shards s JOIN sfpg.shard_runs r ON r.id = s.run_id
                WHERE r.run_name = 'night-2' AND s.shard_index = 3
                """).rows.first?.first ?? nil
            return job.map { id in world.emulator.requests.contains { $0.path.contains("\(id)/results") } } ?? false
        }
        #expect(downloading, "shard 3 never started downloading: \(processes[3].standardError)")
        #expect(processes[3].isRunning)
        processes[3].send(SIGKILL)
        #expect(processes[3].wait() == 128 + SIGKILL)

        // Three shards committed their ranges, but the run is not complete: no success row, watermark unchanged.
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs WHERE finished_at IS NULL") == 1)
        #expect(try world.count("SELECT count(*) FROM sfpg.shards WHERE status = 'succeeded'") == 3)
        #expect(try world.count("SELECT count(*) FROM sfpg.shards WHERE shard_index = 3 AND status = 'running'") == 1)
        let midway = try Self.logs(world)
        #expect(midway.count == 2)
        #expect(midway.last?[0] == "running")
        #expect(try Self.watermark(world) == watermarkBefore)
        let leftover = try #require(
            try world.connection.execute("SELECT bulk_job_id FROM sfpg.shards WHERE shard_index = 3").rows.first?.first ?? nil)

        // The rerun of shard 3 alone takes the dead shard's row over, reuses the recorded boundaries and completes.
        world.emulator.faults.clear()
        let boundaryQueries = world.jobCreations.filter { $0.soql?.contains("LIMIT 1") == true }.count
        let rerun = try world.sfpg(Self.shardArguments(3, run: "night-2"), timeout: .seconds(120))
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(world.jobCreations.filter { $0.soql?.contains("LIMIT 1") == true }.count == boundaryQueries)
        #expect(world.jobIds(method: "DELETE").contains(leftover))
        let differences = try world.differences(job, tolerating: Set(try Self.hardDeleted(world, job)))
        #expect(differences.isEmpty, "\(differences.prefix(5))")
        let logs = try Self.logs(world)
        #expect(logs.count == 2, "\(logs)")
        #expect(logs.last?[0] == "success")
        #expect(try world.count("SELECT count(*) FROM sfpg.shards WHERE shard_index = 3 AND attempts = 2 AND status = 'succeeded'") == 1)
        let expected = try Self.minimumRule(world, job: job, boundaries: try Self.boundaries(world, run: "night-2"))
        #expect(try Self.watermark(world) == max(expected, watermarkBefore))
    }

    /// Keys in the table that Salesforce deleted for good: marked deleted by the sweep, absent from the truth.
    static func hardDeleted(_ world: E2EFixture, _ job: JobDefinition) throws -> [String] {
        let truth = Set(world.truth(job).compactMap { $0[0] })
        let marked = try world.connection.execute(
            "SELECT salesforce_id FROM public.salesforce_contacts WHERE is_deleted").rows.compactMap { $0[0] }
        return marked.filter { !truth.contains($0) }
    }

    @Test("a shard's sweep marks deleted only keys in its own range")
    func aShardSweepsOnlyItsRange() async throws {
        let world = try await Self.world(contacts: 300)
        let job = try world.job("contacts")
        try world.sync(job, .full)
        let watermarkBefore = try Self.watermark(world)
        let ids = world.truth(job).compactMap { $0[0] }.sorted()
        // Near the two ends in ASCII order, so in the first and the last range (checked below against the ranges
        // the first shard recorded; the emulator's ORDER BY Id, which finds the ends, ignores case).
        let inFirst = ids[10], inLast = ids[ids.count - 10]
        world.emulator.org.hardDelete("Contact", id: inFirst)
        world.emulator.org.hardDelete("Contact", id: inLast)
        func isDeleted(_ id: String) throws -> String? {
            try world.connection.execute(
                "SELECT is_deleted::text FROM public.salesforce_contacts WHERE salesforce_id = $1", [id]).rows.first?.first ?? nil
        }

        let first = try world.runner().run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: 0, count: 4, runName: "sweep")))
        #expect(first.status == .success, "\(first.error ?? "")")
        let ranges = SplitRanges(boundaries: try Self.boundaries(world, run: "sweep"))
        #expect(ranges.count == 4)
        #expect(SplitRangesTests.rangeIndex(inFirst, ranges) == [0] && SplitRangesTests.rangeIndex(inLast, ranges) == [3])
        #expect(try isDeleted(inFirst) == "true")
        #expect(try isDeleted(inLast) == "false", "shard 0 swept a key of shard 3's range")
        #expect(first.summary?.counts.deleted == 1)
        #expect(first.summary?.completedShardRun == false)
        #expect(try Self.watermark(world) == watermarkBefore)

        for index in 1..<4 {
            let outcome = try world.runner().run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: index, count: 4, runName: "sweep")))
            #expect(outcome.status == .success, "\(outcome.error ?? "")")
            #expect(outcome.summary?.counts.deleted == (index == 3 ? 1 : 0))
            #expect(outcome.summary?.completedShardRun == (index == 3))
        }
        #expect(try isDeleted(inLast) == "true")
        let differences = try world.differences(job, tolerating: [inFirst, inLast])
        #expect(differences.isEmpty, "\(differences.prefix(5))")
        let logs = try Self.logs(world)
        #expect(logs.count == 2 && logs.last?[0] == "success")
    }

    @Test("a failed shard marks its row and the run's log row failed; its rerun, last, completes the run")
    func failedShardLeavesTheRunIncompleteUntilRerun() async throws {
        let world = try await Self.world(contacts: 200)
        let job = try world.job("contacts")
        func shard(_ index: Int) throws -> JobOutcome {
            try world.runner().run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: index, count: 4)))
        }
        #expect(try shard(0).status == .success)
        world.emulator.faults.failJobs(count: 1, errorMessage: "InvalidBatch: shard test")
        let failed = try shard(1)
        #expect(failed.status == .failure)
        #expect(try world.count("SELECT count(*) FROM sfpg.shards WHERE shard_index = 1 AND status = 'failed' AND error_message LIKE 'shard 1/4: %'") == 1)
        let log = try world.connection.execute("SELECT status, error_message FROM sfpg.sync_logs").rows
        #expect(log.count == 1)
        #expect(log.first?[0] == "failed")
        #expect(log.first?[1]?.hasPrefix("shard 1/4: ") == true, "\(log)")
        for index in [2, 3] { #expect(try shard(index).status == .success) }
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs WHERE finished_at IS NULL") == 1)
        #expect(try Self.watermark(world) == nil)
        // Joined automatically (no run name): the newest unfinished run where shard 1 has not succeeded.
        let rerun = try shard(1)
        #expect(rerun.status == .success, "\(rerun.error ?? "")")
        #expect(rerun.summary?.completedShardRun == true)
        let done = try world.connection.execute("SELECT status, error_message, records_processed::text FROM sfpg.sync_logs").rows
        #expect(done.count == 1)
        #expect(done.first?[0] == "success" && done.first?[1] == nil && done.first?[2] == "200", "\(done)")
        #expect(try world.differences(job).isEmpty)
        #expect(try Self.watermark(world) != nil)
        // The next shard 0 begins a new run: in the finished one it had succeeded.
        #expect(try shard(0).status == .success)
        #expect(try world.count("SELECT count(*) FROM sfpg.shard_runs") == 2)
    }

    @Test("with fewer ranges than shards (Ids too close together), the extra shards own nothing and still finish the run")
    func fewerRangesThanShards() async throws {
        let world = try await Self.world(contacts: 3)
        let job = try world.job("contacts")
        for index in 0..<4 {
            let outcome = try world.runner().run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: index, count: 4)))
            #expect(outcome.status == .success, "shard \(index): \(outcome.error ?? "")")
            #expect(outcome.summary?.completedShardRun == (index == 3))
        }
        let boundaries = try world.connection.execute("SELECT array_length(boundaries, 1) FROM sfpg.shard_runs").rows.first?.first ?? nil
        let ranges = Int(boundaries ?? "0") ?? 0
        #expect(ranges + 1 < 4)
        // One data job per range that exists; none for the shards without one.
        #expect(world.jobCreations.compactMap(\.soql).filter { !$0.contains("LIMIT 1") }.count == ranges + 1)
        #expect(try world.differences(job).isEmpty)
        let logs = try Self.logs(world)
        #expect(logs.count == 1 && logs.first?[0] == "success" && logs.first?[1] == "3", "\(logs)")
    }

    @Test("a shard and a normal run of the same job exclude each other; so do two processes for one shard")
    func locks() async throws {
        let world = try await Self.world(contacts: 50)
        let job = try world.job("contacts")
        let holder = try PostgresConnection(world.conninfo, applicationName: "sfpg-test-lock")
        // A normal run's exclusive job lock, as withJobLock takes it.
        try holder.execute("SELECT pg_advisory_lock(hashtext('sfpg'), hashtext('contacts'))")
        let blocked = try world.runner().run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: 0, count: 2)))
        #expect(blocked.status == .lockHeld, "\(blocked.error ?? "")")
        try holder.execute("SELECT pg_advisory_unlock(hashtext('sfpg'), hashtext('contacts'))")
        // Another process on the same shard index.
        try holder.execute("SELECT pg_advisory_lock(hashtext('sfpg.shard'), hashtext('contacts#1'))")
        let same = try world.runner().run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: 1, count: 2)))
        #expect(same.status == .lockHeld, "\(same.error ?? "")")
        // A shard holding the job's lock shared: the other index runs, a normal run does not.
        try holder.execute("SELECT pg_advisory_lock_shared(hashtext('sfpg'), hashtext('contacts'))")
        let other = try world.runner().run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: 0, count: 2)))
        #expect(other.status == .success, "\(other.error ?? "")")
        let normal = try world.runner().run(job, options: SyncOptions(mode: .full))
        #expect(normal.status == .lockHeld, "\(normal.error ?? "")")
        // An incremental shard is refused before anything happens.
        let incremental = try world.runner().run(job, options: SyncOptions(mode: .incremental, shard: ShardSpec(index: 0, count: 2)))
        #expect(incremental.status == .configuration)
    }

    @Test("the CLI refuses a misused --shard with exit 64 (a command-line error) and an actionable message")
    func commandLine() async throws {
        let world = try await Self.world(contacts: 20)
        let cases: [([String], String)] = [
            (["run", "contacts", "--full", "--shard", "4/4"], "0 to 3"),
            (["run", "contacts", "--full", "--shard", "two"], "is not I"),
            (["run", "contacts", "--full", "--shard", "0/1"], "2 to 64"),
            (["run", "contacts", "accounts", "--full", "--shard", "0/4"], "exactly one job"),
            (["run", "--full", "--shard", "0/4"], "exactly one job"),
            (["run", "contacts", "--incremental", "--shard", "0/4"], "--full"),
            (["run", "contacts", "--full", "--shard-run", "x"], "needs --shard"),
        ]
        for (arguments, message) in cases {
            let result = try world.sfpg(arguments + Self.jobArguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(world.jobCreations.isEmpty)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_logs") == 0)
    }

    @Test("the sweep's SQL range and the Bulk query's SOQL range agree on Ids at the boundaries")
    func rangePredicateAgreesWithSOQL() async throws {
        let world = try await Self.world(contacts: 300)
        let job = try world.job("contacts")
        try world.sync(job, .full)
        // A linguistic collation on the key column (as a database created with en_US.UTF-8 has), where `Z` sorts
        // after `g`: the range must still compare like SOQL does, bytewise.
        let linguistic = try #require(
            try world.connection.execute(
                """
                SELECT quote_ident(collname) FROM pg_collation
                WHERE collname IN ('en-US-x-icu', 'und-x-icu', 'en_US.utf8', 'en_US.UTF-8') ORDER BY collname LIMIT 1
                """).rows.first?.first ?? nil, "no linguistic collation in this PostgreSQL")
        try world.connection.execute(
            "ALTER TABLE public.salesforce_contacts ALTER COLUMN salesforce_id TYPE varchar(18) COLLATE \(linguistic)")
        let ids = world.truth(job).compactMap { $0[0] }.sorted()
        // Boundaries exactly at existing Ids (15 characters, as SplitRanges makes them; the Ids are 18).
        let boundaries = [String(ids[100].prefix(15)), String(ids[200].prefix(15))]
        let ranges = SplitRanges(boundaries: boundaries)
        let runner = try world.runner()
        var seen: Set<String> = []
        for index in 0..<ranges.count {
            let created = try runner.client.createQueryJob(
                "SELECT Id FROM Contact WHERE \(ranges.condition(index) ?? "")", operation: .queryAll)
            let done = try runner.client.waitForCompletion(created.id)
            let collector = IdCollector()
            _ = try runner.client.downloadResults(
                created.id, maxRecords: nil, expectedRecords: done.numberRecordsProcessed, into: collector)
            let range = KeyRange(
                lower: index > 0 ? boundaries[index - 1] : nil, upper: index < boundaries.count ? boundaries[index] : nil)
            let condition = range.sqlCondition(column: "t.salesforce_id", firstParameter: 1).map { " WHERE \($0)" } ?? ""
            let sql = Set(
                try world.connection.execute(
                    "SELECT salesforce_id FROM public.salesforce_contacts AS t\(condition)", range.parameters
                ).rows.compactMap { $0[0] })
            let disagree = Set(collector.ids).symmetricDifference(sql).sorted()
            #expect(disagree.isEmpty, "range \(index): SOQL and SQL disagree on \(disagree.count) Ids, e.g. \(disagree.prefix(4))")
            #expect(!sql.isEmpty)
            seen.formUnion(sql)
        }
        #expect(seen.count == ids.count)
        // The boundary Ids themselves open their range (>=), not close the one before (<).
        let inRange = { (id: String) in SplitRangesTests.rangeIndex(id, ranges) }
        #expect(inRange(ids[100]) == [1] && inRange(ids[200]) == [2] && inRange(ids[99]) == [0])
    }
}
