import Foundation
import Logging
import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// `split: N`: a full run read by N Bulk jobs over disjoint Id ranges, loaded into one run.
@Suite struct SplitRangesTests {
    static let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// Which range (0-based) an Id falls in, by the conditions' own rule (ASCII order of the first 15 characters).
    static func rangeIndex(_ id: String, _ ranges: SplitRanges) -> [Int] {
        let key = String(id.prefix(15))
        return (0..<ranges.count).filter { i in
            (i == 0 || key >= ranges.boundaries[i - 1]) && (i == ranges.boundaries.count || key < ranges.boundaries[i])
        }
    }

    @Test func boundariesAreIncreasingValidIdsBetweenTheEnds() {
        let ranges = SplitRanges(smallest: "003000000000001AAA", largest: "003000000123456AAA", parts: 4)
        #expect(ranges.count == 4)
        #expect(ranges.boundaries == ranges.boundaries.sorted())
        #expect(Set(ranges.boundaries).count == 3)
        for boundary in ranges.boundaries {
            #expect(boundary.count == 15)
            #expect(boundary.allSatisfy { Self.digits.contains($0) })
            #expect(boundary.hasPrefix("003000000"))
            #expect(boundary > "003000000000001" && boundary < "003000000123456")
        }
        #expect(ranges.condition(0) == "Id < '\(ranges.boundaries[0])'")
        #expect(ranges.condition(1) == "Id >= '\(ranges.boundaries[0])' AND Id < '\(ranges.boundaries[1])'")
        #expect(ranges.condition(3) == "Id >= '\(ranges.boundaries[2])'")
    }

    @Test func everyIdFallsInExactlyOneRangeWhateverTheDistribution() {
        // Ids on two pods and far apart: the ranges are uneven, but still cover everything once.
        let ids = ["003000000000001", "0035g0000000zzz", "0035g0000001000", "003Hx00000AbCdE", "003zz0000000000", "003000000000000",
                   "003zzzzzzzzzzzz", "001000000000000", "004000000000000"]
        for parts in [2, 3, 4, 16] {
            let ranges = SplitRanges(smallest: "003000000000001", largest: "003Hx00000AbCdE", parts: parts)
            #expect(ranges.count == parts)
            for id in ids { #expect(Self.rangeIndex(id, ranges).count == 1, "\(id) with \(parts) parts") }
        }
    }

    @Test func closeOrMissingEndsGiveFewerRanges() {
        #expect(SplitRanges(smallest: nil, largest: nil, parts: 4).count == 1)
        #expect(SplitRanges(smallest: "003000000000001", largest: "003000000000001", parts: 4).count == 1)
        #expect(SplitRanges(smallest: "003000000000001", largest: "003000000000003", parts: 8).count == 2)
        #expect(SplitRanges(smallest: "003000000000001", largest: "not an id", parts: 4).count == 1)
        #expect(SplitRanges(smallest: "003000000000009", largest: "003000000000001", parts: 4).count == 1)
        #expect(SplitRanges(smallest: "003000000000001", largest: "003000000000009", parts: 1).count == 1)
        #expect(SplitRanges(smallest: "003000000000001", largest: "003000000000009", parts: 1).condition(0) == nil)
    }

    @Test func jobFileKey() throws {
        let base = JobDefinitionTests.valid
        #expect(try JobDefinition.parse(yaml: base, name: "c", file: "c.yaml").split == 1)
        #expect(try JobDefinition.parse(yaml: base + "\nsplit: 4\n", name: "c", file: "c.yaml").split == 4)
        #expect(try JobDefinition.parse(yaml: base + "\nsplit: 16\n", name: "c", file: "c.yaml").split == 16)
        for bad in ["0", "17", "two", "-1"] {
            #expect {
                try JobDefinition.parse(yaml: base + "\nsplit: \(bad)\n", name: "c", file: "jobs/c.yaml")
            } throws: { error in
                let text = String(describing: error)
                return text.hasPrefix("jobs/c.yaml:9: 'split'") && text.contains("1 to 16")
            }
        }
    }

    @Test func onlyAFullPlanSplitsAndRangesJoinTheFilter() throws {
        var job = try JobDefinition.parse(yaml: JobDefinitionTests.valid + "\nwhere: Email != null\nsplit: 4\n", name: "c", file: "c.yaml")
        let full = try SyncPlan(job: job, requested: .full, previousWatermark: "2024-01-15T10:30:00.000Z")
        #expect(full.split == 4)
        #expect(full.soql(range: "Id < '003000000000001'").hasSuffix("FROM Contact WHERE (Email != null) AND Id < '003000000000001'"))
        #expect(full.soql(range: nil) == full.soql)
        #expect(full.boundarySOQL(ascending: false) == "SELECT Id FROM Contact WHERE (Email != null) ORDER BY Id DESC LIMIT 1")
        let incremental = try SyncPlan(job: job, requested: nil, previousWatermark: "2024-01-15T10:30:00.000Z")
        #expect(incremental.split == 1)
        job.whereClause = nil
        let unfiltered = try SyncPlan(job: job, requested: .full, previousWatermark: nil)
        #expect(unfiltered.soql(range: "Id >= 'x'").hasSuffix("FROM Contact WHERE Id >= 'x'"))
        #expect(unfiltered.boundarySOQL(ascending: true) == "SELECT Id FROM Contact ORDER BY Id ASC LIMIT 1")
    }
}

@Suite("Split full runs end to end", .timeLimit(.minutes(3)))
struct SplitE2ETests {
    static func world() async throws -> E2EFixture {
        try await E2EFixture {
            $0.contactCount = 300
            $0.defaultPageSize = 100
        }
    }

    static func job(_ world: E2EFixture, split: Int = 4) throws -> JobDefinition {
        var job = try world.job("contacts")
        job.split = split
        job.pageSize = 50
        return job
    }

    static func logs(_ world: E2EFixture) throws -> [[String?]] {
        try world.connection.execute(
            """
            SELECT status, failure_reason, records_expected::text, records_downloaded::text, records_processed::text,
                salesforce_job_id
            FROM sfpg.sync_logs ORDER BY id
            """).rows
    }

    /// Data jobs: the created jobs whose SOQL reads the job's fields (not the two one-Id boundary queries).
    static func dataJobQueries(_ world: E2EFixture) -> [String] {
        world.jobCreations.compactMap(\.soql).filter { !$0.contains("LIMIT 1") }
    }

    @Test(arguments: [1, 4])
    func splitFirstLoadAndResyncMatchTheTruthInOneRunEach(connections: Int) async throws {
        let world = try await Self.world()
        let job = try Self.job(world)
        let first = try world.runner().run(job, options: SyncOptions(mode: .full, downloadConnections: connections))
        #expect(first.status == .success, "\(first.error ?? "")")
        #expect(first.summary?.path == .direct)
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(3))")
        #expect(Self.dataJobQueries(world).count == 4)
        #expect(world.jobCreations.count == 6)
        let logs = try Self.logs(world)
        #expect(logs.count == 1)
        #expect(logs.first?[0] == "success")
        #expect(logs.first?[2] == "300" && logs.first?[3] == "300" && logs.first?[4] == "300")
        let ids = (logs.first?[5] ?? "")?.split(separator: ",").map(String.init) ?? []
        #expect(ids.count == 4)
        // Every job (data and boundary) was deleted; nothing is left in flight.
        #expect(Set(world.jobIds(method: "DELETE")).isSuperset(of: ids))
        #expect(world.jobIds(method: "DELETE").count == 6)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
        // Each data job read a part (the emulator's Ids are sequential, so the parts are even): together exactly the
        // records.
        #expect(first.summary?.counts.staged == 300)
        let sorted = world.truth(job).compactMap { $0[0] }.sorted()
        let ranges = SplitRanges(smallest: sorted.first, largest: sorted.last, parts: 4)
        let sizes = (0..<4).map { i in sorted.filter { SplitRangesTests.rangeIndex($0, ranges) == [i] }.count }
        #expect(sizes.reduce(0, +) == 300 && sizes.allSatisfy { $0 >= 50 }, "\(sizes)")

        // Changes, a delete, then a second split full run through staging with its sweep.
        let truth = world.truth(job)
        world.emulator.org.update("Contact", id: truth[0][0]!, fields: ["LastName": "Split"])
        world.emulator.org.softDelete("Contact", id: truth[1][0]!)
        let second = try world.runner().run(job, options: SyncOptions(mode: .full, downloadConnections: connections))
        #expect(second.status == .success, "\(second.error ?? "")")
        #expect(second.summary?.path == .staged)
        #expect((second.summary?.counts.updated ?? 0) + (second.summary?.counts.deleted ?? 0) == 2)
        let after = try world.differences(job)
        #expect(after.isEmpty, "\(after.prefix(3))")
        #expect(try Self.logs(world).count == 2)
    }

    @Test(arguments: [true, false])
    func shortTotalInOneRangeFailsTheWholeRunAndCommitsNothing(firstLoad: Bool) async throws {
        let world = try await Self.world()
        let job = try Self.job(world)
        if !firstLoad { #expect(try world.runner().run(job, options: SyncOptions(mode: .full)).status == .success) }
        let before = try IntegrityE2ETests.snapshot(world)
        let runner = try world.runner()
        // Armed once the ranges are known, so the fault hits a data job, not a boundary query.
        runner.beforeSplitJobs = { _ in world.emulator.faults.shortTotal(jobs: 1) }
        let outcome = runner.run(job, options: SyncOptions(mode: .full))
        #expect(outcome.status == .failure)
        #expect(outcome.error?.contains("Salesforce reported 300 records") == true, "\(outcome.error ?? "")")
        if firstLoad {
            // (The in-flight bookkeeping created the job's state row; it holds no watermark and no job.)
            #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
            #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE watermark IS NOT NULL OR last_run_id IS NOT NULL") == 0)
        } else {
            #expect(try IntegrityE2ETests.unchanged(world, since: before))
        }
        let log = try #require(try Self.logs(world).last)
        #expect(log[0] == "failed")
        #expect(log[1] == "incomplete")
        #expect(log[2] == "300")
        let ids = (log[5] ?? "")?.split(separator: ",").map(String.init) ?? []
        #expect(ids.count == 4)
        // All of the run's jobs were deleted; none stays recorded as in flight.
        #expect(Set(world.jobIds(method: "DELETE")).isSuperset(of: ids))
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 0)
    }

    @Test func splitWithAFilterReadsExactlyTheFilteredRecords() async throws {
        let world = try await Self.world()
        var job = try Self.job(world, split: 3)
        let truth = world.truth(job)
        let lastNameIndex = try #require(job.fields.firstIndex { $0.source == "LastName" })
        let initials: [Character] = truth.compactMap { row in row[lastNameIndex].flatMap(\.first) }
        let letter = try #require(initials.first)
        job.whereClause = "LastName LIKE '\(letter)%'"
        let outcome = try world.runner().run(job, options: SyncOptions(mode: .full))
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        let expected = truth.filter { $0[lastNameIndex]?.lowercased().hasPrefix(String(letter).lowercased()) == true }
        #expect(!expected.isEmpty && expected.count < truth.count)
        let actual = try world.table(job)
        let differences = TestSyncTables.differences(expected: expected, actual: actual, fields: job.fields.map(\.source))
        #expect(differences.isEmpty, "\(differences.prefix(3))")
        #expect(actual.count == expected.count)
        let queries = Self.dataJobQueries(world)
        #expect(queries.count >= 2)
        #expect(queries.allSatisfy { $0.contains("(LastName LIKE") && $0.contains("Id ") })
        #expect(world.jobCreations.compactMap(\.soql).filter { $0.contains("LIMIT 1") }.allSatisfy { $0.contains("(LastName LIKE") })
        let log = try #require(try Self.logs(world).last)
        #expect(log[2] == String(expected.count))
    }

    @Test func dryRunSaysTheFullRunSplits() async throws {
        let world = try await Self.world()
        let job = try Self.job(world)
        let full = try DryRun.describe([job], mode: .full, connection: world.connection)
        #expect(full.contains("-- split: 4 Bulk jobs over Id ranges"), "\(full)")
        let incremental = try DryRun.describe([job], mode: .incremental, connection: world.connection)
        #expect(!incremental.contains("-- split:"))
        #expect(world.jobCreations.isEmpty)
    }
}
