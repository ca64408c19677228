import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// `sfpg run` SIGKILLed after staging part of a multi-page result, then run again: the rerun reuses the Bulk
/// job(s), downloads only the pages not yet staged (counted by the emulator) and leaves the table equal to the org.
/// `SFPG_TEST_RESUME_ROWS` sets the org's size (issue #19 asks for 1M); pages and time limits grow with it.
@Suite("Resume: a killed run continues where it stopped", .serialized, .timeLimit(.minutes(5 * max(1, TestScale.resumeRows / 20_000))))
struct ResumeTests {
    static let rows = TestScale.resumeRows
    /// 1,500 at the default 20,000 rows (14 pages); larger orgs get larger pages, at most 30,000 records (about
    /// 6.5 MB of this job's CSV), so that no page reaches the emulator's 10 MB cap and every page holds `pageSize`
    /// records: the tests predict page counts from it.
    static let pageSize = min(30_000, max(1_500, rows / 30))
    /// Multiplies the waits: 1 up to 20,000 rows.
    static let scale = max(1, rows / 20_000)
    static let totalPages = (rows + pageSize - 1) / pageSize
    static let timeout = Duration.seconds(60 * scale)
    /// Every run stages resumably here (the default thresholds are 1M and 10M records).
    static let resumable = ["SFPG_RESUME_MIN_RECORDS": "1"]

    static func world() async throws -> E2EFixture {
        try await E2EFixture {
            $0.contactCount = rows
            $0.defaultPageSize = pageSize
        }
    }

    /// Pages staged (ledger rows) so far.
    static func ledgerPages(_ world: E2EFixture) throws -> Int {
        try world.count("SELECT count(*) FROM sfpg.resume_pages")
    }

    /// Starts `arguments` with slow downloads and SIGKILLs the process once `half` pages are staged.
    /// - Returns: the pages staged when it died, per Bulk job.
    static func killAfterStaging(
        _ world: E2EFixture, _ arguments: [String], half: Int, environment: [String: String] = resumable
    ) throws -> [String: Int] {
        world.emulator.faults.setBandwidth(bytesPerSecond: 400_000)
        let process = try world.spawn(arguments, environment: environment)
        let staged = try E2EFixture.waitUntil(timeout: .seconds(60 * scale)) { try ledgerPages(world) >= half }
        process.send(SIGKILL)
        #expect(process.wait() == 128 + SIGKILL)
        #expect(staged, "the run never staged \(half) pages: \(process.standardError)")
        world.emulator.faults.setBandwidth(bytesPerSecond: nil)
        let rows = try world.connection.execute("SELECT bulk_job_id, count(*) FROM sfpg.resume_pages GROUP BY 1").rows
        return Dictionary(uniqueKeysWithValues: rows.compactMap { row in
            guard let id = row[0], let count = row[1].flatMap({ Int($0) }) else { return nil }
            return (id, count)
        })
    }

    /// The TCP connections the emulator has accepted so far: a rerun's requests come on later ones. (Its per-job
    /// page counter cannot tell the rerun's pages apart: the killed process's last page may be rendered, and counted,
    /// after the kill, as happened at 1M rows.)
    static func connectionsSoFar(_ world: E2EFixture) -> Int { world.emulator.requests.map(\.connection).max() ?? 0 }

    /// Result pages of each of `jobs` the emulator served on connections opened after `connection`.
    static func served(_ world: E2EFixture, _ jobs: [String], after connection: Int) -> [String: Int] {
        let pages = world.emulator.requests.filter { $0.connection > connection && $0.status == 200 && $0.path.hasSuffix("/results") }
        return Dictionary(uniqueKeysWithValues: jobs.map { job in (job, pages.filter { $0.path.hasSuffix("/\(job)/results") }.count) })
    }

    /// The resumable run's Bulk jobs as recorded before the rerun.
    static func stagedJobs(_ world: E2EFixture) throws -> [String] {
        let ids = try world.connection.execute("SELECT array_to_string(bulk_job_ids, ',') FROM sfpg.resume_runs").rows
        return (ids.first?.first ?? nil)?.split(separator: ",").map(String.init) ?? []
    }

    /// After the committed rerun: the table equals the org, and nothing staged is left behind.
    static func converged(_ world: E2EFixture, _ job: JobDefinition) throws {
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(try world.count("SELECT count(*) FROM sfpg.resume_runs") == 0)
        #expect(try world.count("SELECT count(*) FROM sfpg.resume_pages") == 0)
        #expect(try world.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'sfpg_stage'") == 0)
    }

    @Test("a full run killed after half its pages: the rerun downloads only the other half", arguments: [false, true])
    func fullRun(locatorChain: Bool) async throws {
        let world = try await Self.world()
        defer { try? world.emulator.shutdownBlocking() }
        // Without the resultPages listing (an org before API 58.0) both runs follow the locator chain: the rerun
        // starts at the locator recorded after the last staged page.
        if locatorChain { world.emulator.faults.failRequests(status: 404, count: 10_000, pathContains: "resultPages") }
        let arguments = ["run", "contacts", "--full", "--jobs-directory", E2EFixture.jobsDirectory]
        let total = Self.totalPages
        let staged = try Self.killAfterStaging(world, arguments, half: total / 2)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0, "nothing merged before the commit")
        let jobs = try Self.stagedJobs(world)
        #expect(jobs.count == 1 && staged.keys.sorted() == jobs)
        let stagedPages = staged.values.reduce(0, +)

        // `sfpg status` shows the resumable run and what it staged.
        let status = try world.sfpg(["status", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(status.stdout.contains("resumable:  \(stagedPages) pages staged"), "\(status.stdout)")
        let json = try world.sfpg(["status", "--json", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(json.stdout.contains("\"pages\" : \(stagedPages)") || json.stdout.contains("\"pages\":\(stagedPages)"), "\(json.stdout)")

        let creations = world.jobCreations.count
        let killed = Self.connectionsSoFar(world)
        let rerun = try world.sfpg(arguments, environment: Self.resumable, timeout: Self.timeout)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("resuming an interrupted run"), "\(rerun.stderr)")
        if locatorChain {
            #expect(!world.emulator.requests.contains { $0.path.hasSuffix("/resultPages") && $0.status == 200 })
        }
        #expect(world.jobCreations.count == creations, "the rerun created a Bulk job instead of reusing \(jobs)")
        #expect(Self.served(world, jobs, after: killed)[jobs[0]] == total - stagedPages, "the rerun downloaded staged pages again")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == Self.rows)
        #expect(try world.count("SELECT result_pages FROM sfpg.sync_logs WHERE status = 'success'") == total)
        try Self.converged(world, try world.job("contacts"))
    }

    @Test("a split run killed after half its pages: the rerun reuses both Bulk jobs and skips their staged pages")
    func splitRun() async throws {
        let world = try await Self.world()
        defer { try? world.emulator.shutdownBlocking() }
        let jobsDirectory = try CLIExitCodeTests.tempJobs(["contacts.yaml": try CLIExitCodeTests.contactsYAML + "split: 2\n"])
        let arguments = ["run", "contacts", "--full", "--jobs-directory", jobsDirectory]
        let staged = try Self.killAfterStaging(world, arguments, half: Self.totalPages / 2)
        let jobs = try Self.stagedJobs(world)
        #expect(jobs.count == 2)
        let creations = world.jobCreations.count
        let killed = Self.connectionsSoFar(world)
        let rerun = try world.sfpg(arguments, environment: Self.resumable, timeout: Self.timeout)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(world.jobCreations.count == creations, "no new Bulk job, not even the boundary queries")
        let total = try world.count("SELECT result_pages FROM sfpg.sync_logs WHERE status = 'success'")
        let downloaded = Self.served(world, jobs, after: killed).values.reduce(0, +)
        #expect(downloaded == total - staged.values.reduce(0, +), "pages downloaded again: \(downloaded) of \(total)")
        try Self.converged(world, try JobDefinition.load(file: jobsDirectory + "/contacts.yaml"))
    }

    @Test("one shard killed after half its pages: its rerun downloads only the rest, and the run completes")
    func shard() async throws {
        let world = try await Self.world()
        defer { try? world.emulator.shutdownBlocking() }
        func shard(_ index: Int) -> [String] {
            ["run", "contacts", "--full", "--shard", "\(index)/2", "--shard-run", "r1", "--jobs-directory", E2EFixture.jobsDirectory]
        }
        let staged = try Self.killAfterStaging(world, shard(0), half: Self.totalPages / 4)
        let jobs = try Self.stagedJobs(world)
        #expect(jobs.count == 1)
        let creations = world.jobCreations.count
        let killed = Self.connectionsSoFar(world)
        let rerun = try world.sfpg(shard(0), environment: Self.resumable, timeout: Self.timeout)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(world.jobCreations.count == creations)
        let shardRecords = try world.count("SELECT records_processed FROM sfpg.shards WHERE shard_index = 0")
        let shardPages = (shardRecords + Self.pageSize - 1) / Self.pageSize
        #expect(Self.served(world, jobs, after: killed)[jobs[0]] == shardPages - staged[jobs[0]]!)
        let other = try world.sfpg(shard(1), environment: Self.resumable, timeout: Self.timeout)
        #expect(other.status == 0, "\(other.stderr)")
        try Self.converged(world, try world.job("contacts"))
    }

    @Test("a job file changed between the kill and the rerun: the rerun starts over, saying why")
    func changedJobStartsOver() async throws {
        let world = try await Self.world()
        defer { try? world.emulator.shutdownBlocking() }
        _ = try Self.killAfterStaging(world, ["run", "contacts", "--full", "--jobs-directory", E2EFixture.jobsDirectory], half: 4)
        let old = try Self.stagedJobs(world)
        let yaml = try CLIExitCodeTests.contactsYAML.replacingOccurrences(of: "  Department: department\n", with: "")
        let jobsDirectory = try CLIExitCodeTests.tempJobs(["contacts.yaml": yaml])
        let creations = world.jobCreations.count
        let rerun = try world.sfpg(["run", "contacts", "--full", "--jobs-directory", jobsDirectory], environment: Self.resumable, timeout: Self.timeout)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("cannot be resumed: starting over") && rerun.stderr.contains("definition changed"), "\(rerun.stderr)")
        #expect(world.jobCreations.count == creations + 1, "a new Bulk job for the new definition")
        #expect(world.jobIds(method: "DELETE").contains(old[0]), "the old Bulk job is deleted")
        try Self.converged(world, try JobDefinition.load(file: jobsDirectory + "/contacts.yaml"))
    }

    @Test("the threshold: a first load below its own copies straight into the empty table, a run into rows stages resumably")
    func thresholds() async throws {
        let world = try await Self.world()
        defer { try? world.emulator.shutdownBlocking() }
        let job = try world.job("contacts")
        let log = CapturedLog()
        let runner = try world.runner(logger: log.logger)
        func run(_ threshold: ResumeThreshold) -> JobOutcome {
            let outcome = runner.run(job, options: SyncOptions(mode: .full, resumeMinRecords: threshold))
            #expect(outcome.status == .success, "\(outcome.error ?? "")")
            return outcome
        }
        let below = ResumeThreshold(staged: 1, firstLoad: 2 * Self.rows)
        #expect(run(below).summary?.path == .direct)
        #expect(log.count("staging resumably") == 0)
        #expect(run(below).summary?.path == .staged)
        #expect(log.count("staging resumably") == 1)
        // A set SFPG_RESUME_MIN_RECORDS holds for first loads too: they give up the direct COPY.
        try world.connection.execute("TRUNCATE \(job.table.quoted)")
        #expect(run(ResumeThreshold(records: 1)).summary?.path == .staged)
        #expect(log.count("staging resumably") == 2)
        try Self.converged(world, job)
    }

    @Test("a staging table emptied by a database crash (UNLOGGED): the rerun starts over instead of proving short")
    func crashEmptiedStagingStartsOver() async throws {
        let world = try await Self.world()
        defer { try? world.emulator.shutdownBlocking() }
        let arguments = ["run", "contacts", "--full", "--jobs-directory", E2EFixture.jobsDirectory]
        _ = try Self.killAfterStaging(world, arguments, half: 4)
        let table = try #require(try world.connection.execute("SELECT stage_table FROM sfpg.resume_runs").rows.first?.first ?? nil)
        // What crash recovery does to an UNLOGGED table.
        try world.connection.execute("TRUNCATE \(table)")
        let creations = world.jobCreations.count
        let rerun = try world.sfpg(arguments, environment: Self.resumable, timeout: Self.timeout)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(rerun.stderr.contains("does not hold what the ledger counts"), "\(rerun.stderr)")
        #expect(world.jobCreations.count == creations + 1)
        try Self.converged(world, try world.job("contacts"))
    }
}
