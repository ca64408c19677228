import Foundation
import PostgresLoader
import Testing
import TestSupport

@testable import SyncEngine

/// Issue 19 item 2: `api_budget` stops a run before it takes the org past its share of a daily allowance, and
/// `sfpg plan` predicts what a run spends from the steps the run takes.
@Suite("API budget and sfpg plan", .serialized, .timeLimit(.minutes(5)))
struct ApiBudgetTests {
    /// A jobs directory holding the repository's contacts job with `extra` lines (page_size, api_budget).
    static func jobsDirectory(_ extra: String) throws -> String {
        let directory = try ScratchDirectory.make("sfpg-budget")
        let contacts = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8)
        try (contacts + "\n" + extra + "\n").write(toFile: directory + "/contacts.yaml", atomically: true, encoding: .utf8)
        return directory
    }

    static func latestRun(_ world: E2EFixture) throws -> (status: String?, reason: String?, calls: Int?, downloaded: Int?, bytes: Int?) {
        let row = try world.connection.execute(
            "SELECT status, failure_reason, api_calls_used, records_downloaded, result_bytes FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1")
        return (row[0, "status"], row[0, "failure_reason"], row[0, "api_calls_used"].flatMap { Int($0) },
                row[0, "records_downloaded"].flatMap { Int($0) }, row[0, "result_bytes"].flatMap { Int($0) })
    }

    func committed(_ world: E2EFixture) -> [String: String] {
        TestSyncTables.fingerprint(world.connection, tables: ["public.salesforce_contacts", "sfpg.sync_state"])
    }

    @Test("api_budget: 10% against an org that has used 95% of its requests: exit 6, no Bulk job, nothing committed")
    func budgetStopsTheRun() async throws {
        let world = try await E2EFixture { $0.contactCount = 500 }
        let jobs = try Self.jobsDirectory("page_size: 100")
        let first = try world.sfpg(["run", "contacts", "--jobs-directory", jobs])
        #expect(first.status == 0, "\(first.stderr)")
        let ids = Array(world.emulator.org.ids("Contact", includeDeleted: false).prefix(50))
        for id in ids { world.emulator.org.update("Contact", id: id, fields: ["Title": "changed"]) }
        _ = try world.emulator.admin("POST", "limits", json: #"{"DailyApiRequests": {"Max": 1000, "Remaining": 50}}"#)
        let before = committed(world)
        let creations = world.jobCreations.count

        let budgeted = try Self.jobsDirectory("page_size: 100\napi_budget: 10%")
        for (arguments, directory) in [([String](), budgeted), (["--api-budget", "10%"], jobs)] {
            let stopped = try world.sfpg(["run", "contacts", "--jobs-directory", directory] + arguments)
            #expect(stopped.status == 6, "\(arguments): \(stopped.stderr)")
            #expect(stopped.stderr.contains("api_budget 10%") && stopped.stderr.contains("DailyApiRequests"), "\(stopped.stderr)")
            #expect(stopped.stdout.contains("api_budget"), "\(stopped.stdout)")
            let logged = try Self.latestRun(world)
            #expect(logged.status == "failed" && logged.reason == "api_budget", "\(logged)")
        }
        #expect(world.jobCreations.count == creations)
        #expect(committed(world) == before)
        let status = try world.sfpg(["status", "--jobs-directory", jobs])
        #expect(status.stdout.contains("refused:    api_budget"), "\(status.stdout)")

        // The same org with a budget it is within: the run goes ahead and loads the changes.
        let allowed = try world.sfpg(["run", "contacts", "--jobs-directory", jobs, "--api-budget", "99%"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(try world.differences(try world.job("contacts")).isEmpty)
    }

    @Test("api_budget counts Bulk query jobs: an org with 3 of 10 jobs left stops a 50% run before its first job")
    func budgetCountsBulkJobs() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        let jobs = try Self.jobsDirectory("api_budget: 50%")
        _ = try world.emulator.admin("POST", "limits", json: #"{"DailyBulkV2QueryJobs": {"Max": 10, "Remaining": 3}}"#)
        let stopped = try world.sfpg(["run", "contacts", "--jobs-directory", jobs])
        #expect(stopped.status == 6, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("DailyBulkV2QueryJobs"), "\(stopped.stderr)")
        #expect(world.jobCreations.isEmpty)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        _ = try world.emulator.admin("POST", "limits", json: #"{"DailyBulkV2QueryJobs": {"Max": 10, "Remaining": 10}}"#)
        let seen = world.emulator.requests.count
        let ran = try world.sfpg(["run", "contacts", "--jobs-directory", jobs])
        #expect(ran.status == 0, "\(ran.stderr)")
        // Requests are counted from Sforce-Limit-Info; /limits (itself a request) is read once, for the Bulk allowances.
        let limitReads = world.emulator.requests.dropFirst(seen).filter { $0.path.hasSuffix("/limits") }.count
        #expect(limitReads == 1)
    }

    /// `sfpg plan --json` for the contacts job, decoded.
    func plan(_ world: E2EFixture, _ jobs: String, _ mode: String) throws -> Forecast {
        let result = try world.sfpg(["plan", "contacts", mode, "--json", "--jobs-directory", jobs])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONDecoder().decode(Forecast.self, from: Data(result.stdout.utf8))
    }

    @Test("sfpg plan predicts a full and an incremental run's API calls within 10% of what they record")
    func planPredictsRuns() async throws {
        let world = try await E2EFixture { $0.contactCount = 20_000 }
        let jobs = try Self.jobsDirectory("page_size: 1000")
        var forecast = try plan(world, jobs, "--full")
        #expect(forecast.jobs.count == 1 && forecast.jobs[0].records == 20_000 && forecast.jobs[0].mode == "full")
        #expect(Set(forecast.limits.keys) == ["DailyApiRequests", "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"])
        #expect(forecast.forecastApiCalls > 0 && forecast.bulkJobs == 1)
        let full = try world.sfpg(["run", "contacts", "--full", "--jobs-directory", jobs])
        #expect(full.status == 0, "\(full.stderr)")
        var used = try Self.latestRun(world)
        let fullCalls = try #require(used.calls)
        #expect(abs(forecast.apiCalls - fullCalls) * 10 <= fullCalls, "predicted \(forecast.apiCalls), used \(fullCalls)")
        let bytes = try #require(used.bytes)
        #expect(abs(Int(forecast.resultBytes) - bytes) * 4 <= bytes, "predicted \(forecast.resultBytes) bytes, used \(bytes)")
        print("full: predicted \(forecast.apiCalls) calls, \(forecast.resultBytes) bytes; used \(fullCalls), \(bytes)")

        let changed = Array(world.emulator.org.ids("Contact", includeDeleted: false).prefix(8_000))
        for id in changed { world.emulator.org.update("Contact", id: id, fields: ["Title": "changed"]) }
        forecast = try plan(world, jobs, "--incremental")
        #expect(forecast.jobs[0].mode == "incremental" && forecast.jobs[0].seconds != nil)
        let metrics = jobs + "/sfpg.prom"
        let incremental = try world.sfpg(["run", "contacts", "--incremental", "--jobs-directory", jobs, "--metrics-file", metrics])
        #expect(incremental.status == 0, "\(incremental.stderr)")
        used = try Self.latestRun(world)
        let exported = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(exported.contains(#"sfpg_salesforce_api_calls{sfpg_job="contacts",object="Contact"} \#(used.calls ?? -1)"#), "\(exported)")
        #expect(exported.contains(#"sfpg_result_bytes{sfpg_job="contacts",object="Contact"} \#(used.bytes ?? -1)"#), "\(exported)")
        #expect(forecast.jobs[0].records == used.downloaded)
        let incrementalCalls = try #require(used.calls)
        #expect(abs(forecast.apiCalls - incrementalCalls) * 10 <= incrementalCalls, "predicted \(forecast.apiCalls), used \(incrementalCalls)")
        print("incremental: predicted \(forecast.apiCalls) calls; used \(incrementalCalls)")

        let text = try world.sfpg(["plan", "--jobs-directory", jobs])
        #expect(text.status == 0 && text.stdout.contains("org: DailyApiRequests") && text.stdout.contains("API calls"), "\(text.stdout)")
        let status = try world.sfpg(["status", "--json", "--jobs-directory", jobs])
        #expect(status.stdout.contains("\"apiCalls\" : \(incrementalCalls)"), "\(status.stdout)")
    }

    @Test("a split: 4 full run: sfpg plan counts the two boundary jobs and four range jobs, and the calls they use")
    func planPredictsASplitRun() async throws {
        let world = try await E2EFixture { $0.contactCount = 4_000 }
        let jobs = try Self.jobsDirectory("page_size: 200\nsplit: 4")
        let forecast = try plan(world, jobs, "--full")
        #expect(forecast.bulkJobs == 6)
        let seen = world.emulator.requests.count
        let run = try world.sfpg(["run", "contacts", "--full", "--jobs-directory", jobs])
        #expect(run.status == 0, "\(run.stderr)")
        let used = try Self.latestRun(world)
        let calls = try #require(used.calls)
        // What the run recorded is what the org saw: every API request (the boundary jobs' cleanup and the parallel
        // download's workers too), token requests aside.
        let served = world.emulator.requests.dropFirst(seen).filter { $0.path.hasPrefix("/services/data") }.count
        #expect(calls == served, "recorded \(calls), the emulator served \(served)")
        #expect(world.jobCreations.count == 6)
        // The ranges' Id boundaries cut the records unevenly (known only once the boundary jobs ran), so a range may
        // need a page and a listing answer more than an even share: 15% here, against 10% for one job.
        #expect(abs(forecast.apiCalls - calls) * 100 <= calls * 15, "predicted \(forecast.apiCalls), used \(calls)")
        print("split 4: predicted \(forecast.apiCalls) calls; used \(calls)")
    }

    @Test("a run in parts (fields_per_query): sfpg plan counts one Bulk job per part and the calls they use")
    func planPredictsARunInParts() async throws {
        let world = try await E2EFixture { $0.contactCount = 2_000 }
        let jobs = try Self.jobsDirectory("page_size: 200\nfields_per_query: 3")
        let forecast = try plan(world, jobs, "--full")
        // 12 fields: Id and SystemModstamp lead every part, the other 10 in parts of 3.
        #expect(forecast.bulkJobs == 4)
        let run = try world.sfpg(["run", "contacts", "--full", "--jobs-directory", jobs])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(world.jobCreations.count == 4)
        let calls = try #require(try Self.latestRun(world).calls)
        #expect(abs(forecast.apiCalls - calls) * 10 <= calls, "predicted \(forecast.apiCalls), used \(calls)")
        print("parts: predicted \(forecast.apiCalls) calls; used \(calls)")
    }

    @Test("api_budget stops a REST read (an object the Bulk API refuses) once its first batch tells what the rest cost")
    func budgetStopsARESTRead() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 20_000
            $0.bulkUnsupportedObjects = ["Contact"]
        }
        _ = try world.emulator.admin("POST", "limits", json: #"{"DailyApiRequests": {"Max": 1000, "Remaining": 100}}"#)
        let before = committed(world)
        let queryAll = { world.emulator.requests.filter { $0.method == "GET" && $0.path.contains("/queryAll") }.count }
        // 900 used, 910 allowed: the refused Bulk job and the first batch fit, the other nine batches do not.
        let stopped = try world.sfpg(["run", "contacts", "--api-budget", "91%", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(stopped.status == 6, "\(stopped.stderr)")
        #expect(stopped.stderr.contains("DailyApiRequests"), "\(stopped.stderr)")
        #expect(queryAll() == 1)
        #expect(try Self.latestRun(world).reason == "api_budget")
        #expect(committed(world) == before)

        let allowed = try world.sfpg(["run", "contacts", "--api-budget", "99%", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(queryAll() == 1 + 10)
        #expect(try world.differences(try world.job("contacts")).isEmpty)
    }

    @Test("api_budget and --api-budget take a percentage above 0%; anything else is a configuration error (exit 2)")
    func budgetSyntax() throws {
        let directory = try Self.jobsDirectory("api_budget: 50%")
        #expect(try JobDefinition.load(file: directory + "/contacts.yaml").apiBudget == 0.5)
        for bad in ["0%", "50", "150%", "half", "1e1%"] {
            let file = try Self.jobsDirectory("api_budget: \"\(bad)\"") + "/contacts.yaml"
            #expect(throws: JobDefinitionError.self, "\(bad)") { try JobDefinition.load(file: file) }
            let flag = try TestSyncProcess.run(["run", "--api-budget", bad, "--jobs-directory", directory], environment: [:])
            #expect(flag.status == 2 && flag.stderr.contains("--api-budget"), "\(bad): \(flag.stderr)")
        }
        let setting = try TestSyncProcess.run(["run", "--jobs-directory", directory], environment: ["SFPG_API_BUDGET": "0%"])
        #expect(setting.status == 2 && setting.stderr.contains("SFPG_API_BUDGET"), "\(setting.stderr)")
    }
}
