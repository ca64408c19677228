import Foundation
import PostgresLoader
import Testing
import TestSupport

@testable import SyncEngine

/// `sfpg verify [--repair]` end to end (issue 18, item 2): the `sfpg` binary against the emulator over HTTP and a
/// real PostgreSQL. Counts per window find the drift, a listing of the differing windows names it, `--repair`
/// merges it through the run pipeline.
@Suite("Verify: counts per window, compare, repair", .serialized, .timeLimit(.minutes(5)))
struct VerifyTests {
    static let jobs = ["--jobs-directory", E2EFixture.jobsDirectory]
    static let table = "public.salesforce_contacts"

    func verify(_ world: E2EFixture, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try world.sfpg(["verify", "contacts"] + extra + Self.jobs, timeout: .seconds(120))
    }

    /// The latest verify row: missing, stale, extra, repaired, windows, compared, API calls.
    func lastVerify(_ world: E2EFixture) throws -> [String: Int] {
        let row = try world.connection.execute(
            """
            SELECT records_missing, records_stale, records_extra, records_repaired, windows_checked, records_compared,
                api_calls_used FROM sfpg.sync_logs WHERE sync_type = 'verify' ORDER BY id DESC LIMIT 1
            """)
        var values: [String: Int] = [:]
        for name in ["records_missing", "records_stale", "records_extra", "records_repaired", "windows_checked",
                     "records_compared", "api_calls_used"] {
            values[name] = Int(row[0, name] ?? "") ?? -1
        }
        return values
    }

    func watermark(_ world: E2EFixture) throws -> String? {
        try world.connection.execute("SELECT watermark::text AS w FROM sfpg.sync_state WHERE job_name = 'contacts'")[0, "w"]
    }

    /// Rows only the table has: copies of real rows under Ids Salesforce never issued.
    func insertExtraRows(_ world: E2EFixture, count: Int) throws -> Set<String> {
        let ids = (1...count).map { String(format: "003FAKE%011d", $0) }
        for id in ids {
            try world.connection.execute(
                """
                INSERT INTO \(Self.table) (salesforce_id, last_name, system_modstamp, is_deleted)
                SELECT $1, last_name, system_modstamp, false FROM \(Self.table) ORDER BY salesforce_id LIMIT 1
                """, [id])
        }
        return Set(ids)
    }

    @Test("a clean table verifies with zero drift, exit 0, a verify row, and status shows it")
    func cleanTable() async throws {
        let world = try await E2EFixture { $0.contactCount = 2_000 }
        #expect(try world.sfpg(["run", "contacts"] + Self.jobs).status == 0)
        let result = try verify(world)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("verify clean"), "\(result.stdout)")
        let found = try lastVerify(world)
        #expect(found["records_missing"] == 0 && found["records_stale"] == 0 && found["records_extra"] == 0)
        #expect(found["records_compared"] == 0, "equal counts list nothing")
        #expect(found["windows_checked"] == 1, "one year, equal on both sides: nothing narrower is counted: \(found)")
        #expect((found["api_calls_used"] ?? 0) > 0)
        let status = try world.sfpg(["status"] + Self.jobs)
        #expect(status.stdout.contains("verify:") && status.stdout.contains("0 missing, 0 stale, 0 extra"), "\(status.stdout)")
        #expect(status.stdout.contains("last run:   success, full"), "a verify is not the last run: \(status.stdout)")
    }

    @Test("rows deleted behind sfpg's back, stale modstamps, extra rows and hidden records: found, exit 7, repaired")
    func driftFoundAndRepaired() async throws {
        let world = try await E2EFixture { $0.contactCount = 2_000 }
        let job = try world.job("contacts")
        #expect(try world.sfpg(["run", "contacts"] + Self.jobs).status == 0)
        let before = try watermark(world)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        let removed = Array(ids[10..<15]), stale = Array(ids[100..<106]), hidden = Array(ids[500..<504])
        try world.connection.execute(
            "DELETE FROM \(Self.table) WHERE salesforce_id = ANY($1::text[])", ["{\(removed.joined(separator: ","))}"])
        // A missed update: the table holds an older version, with another value and an older modstamp.
        try world.connection.execute(
            """
            UPDATE \(Self.table) SET last_name = 'Outdated', system_modstamp = system_modstamp - interval '40 days'
            WHERE salesforce_id = ANY($1::text[])
            """, ["{\(stale.joined(separator: ","))}"])
        let fake = try insertExtraRows(world, count: 3)
        world.emulator.org.hide("Contact", ids: hidden)

        let found = try verify(world)
        #expect(found.status == 7, "\(found.stdout)\(found.stderr)")
        #expect(found.stdout.contains("5 missing, 6 stale, 7 extra"), "\(found.stdout)")
        #expect(try world.count("SELECT count(*) FROM \(Self.table) WHERE last_name = 'Outdated'") == 6, "verify alone changes nothing")

        let repaired = try verify(world, ["--repair"])
        #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
        #expect(try lastVerify(world)["records_repaired"] == 5 + 6 + 7)
        // The hidden records are still Salesforce's (the emulator's truth lists them); the table marks them deleted.
        let left = try world.differences(job, tolerating: fake.union(hidden)).filter { line in !hidden.contains { line.hasPrefix($0) } }
        #expect(left.isEmpty, "\(left.prefix(5))")
        let marked = try world.count(
            "SELECT count(*) FROM \(Self.table) WHERE is_deleted AND salesforce_id = ANY('{\(fake.union(hidden).joined(separator: ","))}')")
        #expect(marked == 7, "extra rows are marked deleted (deletes: soft)")
        #expect(try watermark(world) == before, "a repair never moves the watermark")
        let again = try verify(world)
        #expect(again.status == 0 && again.stdout.contains("verify clean"), "\(again.stdout)\(again.stderr)")

        // Shown again, with their old SystemModstamp: missing from the live rows, revived by a repair.
        world.emulator.org.unhide("Contact", ids: hidden)
        let shown = try verify(world)
        #expect(shown.status == 7 && shown.stdout.contains("4 missing, 0 stale, 0 extra"), "\(shown.stdout)\(shown.stderr)")
        #expect(try verify(world, ["--repair"]).status == 0)
        #expect(try world.differences(job, tolerating: fake).isEmpty)
        #expect(try verify(world).status == 0)
    }

    @Test("drift whose counts cancel (one row missing where another's stale modstamp still counts) is repaired by counting again")
    func cancellingCounts() async throws {
        let world = try await E2EFixture { $0.contactCount = 2_000 }
        let job = try world.job("contacts")
        #expect(try world.sfpg(["run", "contacts"] + Self.jobs).status == 0)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        let (gone, moved) = (ids[10], ids[20])
        // A missed update (Salesforce moved `moved` to today, the table still counts it on its generated day) and a
        // row lost on that same day: the generated day (and year) counts as many rows on both sides.
        world.emulator.org.update("Contact", id: moved, fields: ["Title": "Moved on"])
        try world.connection.execute("DELETE FROM \(Self.table) WHERE salesforce_id = $1", [gone])
        let found = try verify(world)
        #expect(found.status == 7 && found.stdout.contains("0 missing, 1 stale, 0 extra"), "\(found.stdout)\(found.stderr)")

        let repaired = try verify(world, ["--repair"])
        #expect(repaired.status == 0, "\(repaired.stdout)\(repaired.stderr)")
        let record = try lastVerify(world)
        #expect(record["records_missing"] == 1 && record["records_stale"] == 1 && record["records_repaired"] == 2, "\(record)")
        #expect(try world.differences(job).isEmpty)
        let again = try verify(world)
        #expect(again.status == 0 && again.stdout.contains("verify clean"), "\(again.stdout)\(again.stderr)")
    }

    @Test("a COUNT() that times out narrows its window (years → months → days) and still finishes")
    func countTimeoutNarrows() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 2_000
            $0.aggregateTimeoutRecords = 800
        }
        #expect(try world.sfpg(["run", "contacts"] + Self.jobs).status == 0)
        let clean = try verify(world)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stderr.contains("count timed out"), "\(clean.stderr)")
        let timeouts = world.emulator.requests.filter { $0.method == "GET" && $0.path.contains("/query") }
        #expect(timeouts.count > 4, "the first count timed out, narrower ones followed")
        try world.connection.execute(
            "DELETE FROM \(Self.table) WHERE salesforce_id IN (SELECT salesforce_id FROM \(Self.table) ORDER BY salesforce_id LIMIT 3)")
        let metrics = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString).prom").path
        defer { try? FileManager.default.removeItem(atPath: metrics) }
        let found = try verify(world, ["--metrics-file", metrics])
        #expect(found.status == 7 && found.stdout.contains("3 missing, 0 stale, 0 extra"), "\(found.stdout)\(found.stderr)")
        let text = try String(contentsOfFile: metrics, encoding: .utf8)
        #expect(text.contains(#"sfpg_drift_records{sfpg_job="contacts",object="Contact",kind="missing"} 3"#), "\(text)")
        #expect(text.contains(#"sfpg_verify_exit_code{sfpg_job="contacts",object="Contact"} 7"#), "\(text)")
    }

    @Test("verify: 24h in a job file is accepted, and status reports a verify as due until one ran")
    func verifyIntervalIsDue() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("verify-jobs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8) + "verify: 24h\n"
        try text.write(toFile: directory + "/contacts.yaml", atomically: true, encoding: .utf8)
        let job = try JobDefinition.load(file: directory + "/contacts.yaml")
        #expect(job.verifySeconds == 86_400)
        #expect(try world.sfpg(["run", "contacts", "--jobs-directory", directory]).status == 0)
        let due = try world.sfpg(["status", "--json", "--jobs-directory", directory])
        #expect(due.stdout.contains("\"verifyDue\" : true"), "\(due.stdout)")
        #expect(try world.sfpg(["verify", "contacts", "--jobs-directory", directory]).status == 0)
        let done = try world.sfpg(["status", "--jobs-directory", directory])
        #expect(done.stdout.contains("0 missing, 0 stale, 0 extra, 0 repaired") && done.stdout.contains(", not due"), "\(done.stdout)")
    }
}
