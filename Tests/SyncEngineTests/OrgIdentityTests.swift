import Foundation
import PostgresLoader
import Testing
import TestSupport

@testable import SyncEngine

/// A job's table belongs to the org it was read from (issue 18): a sandbox refresh or a wrong `SF_LOGIN_URL`
/// is refused before any Bulk job, and `--full --accept-new-org` re-reads the new org into the same table.
@Suite("Org identity: runs against another org", .serialized)
struct OrgIdentityTests {
    static let jobs = ["--jobs-directory", E2EFixture.jobsDirectory]

    func recordedOrg(_ world: E2EFixture, job: String = "contacts") throws -> String? {
        try world.connection.execute("SELECT org_id FROM sfpg.sync_state WHERE job_name = $1", [job])[0, "org_id"]
    }

    @Test("the first run records the org id; later runs keep it")
    func firstRunRecordsTheOrg() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        let first = try world.sfpg(["run", "contacts"] + Self.jobs)
        #expect(first.status == 0, "\(first.stderr)")
        let org = world.emulator.organizationId
        #expect(org.count == 18)
        #expect(try recordedOrg(world) == org)
        let status = try world.sfpg(["status"] + Self.jobs)
        #expect(status.stdout.contains("org:        \(org)"), "\(status.stdout)")
        let json = try world.sfpg(["status", "--json"] + Self.jobs)
        #expect(json.stdout.contains("\"orgId\"") && json.stdout.contains(org), "\(json.stdout)")
        let incremental = try world.sfpg(["run", "contacts", "--incremental"] + Self.jobs)
        #expect(incremental.status == 0, "\(incremental.stderr)")
        #expect(try recordedOrg(world) == org)
    }

    @Test("after a sandbox refresh, every kind of run exits 2 naming both org ids, with no Bulk job and no change")
    func anotherOrgIsRefused() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        let first = try world.sfpg(["run", "contacts"] + Self.jobs)
        #expect(first.status == 0, "\(first.stderr)")
        let old = world.emulator.organizationId
        let new = world.emulator.emulator.refreshOrg()
        #expect(old != new)
        let before = world.fingerprint()
        let creations = world.jobCreations.count
        for mode in [["--incremental"], ["--full"], [], ["--full", "--shard", "0/2"]] {
            let result = try world.sfpg(["run", "contacts"] + mode + Self.jobs)
            #expect(result.status == 2, "\(mode): \(result.stderr)")
            #expect(result.stderr.contains(old) && result.stderr.contains(new), "\(mode): \(result.stderr)")
            #expect(result.stderr.contains("--accept-new-org"), "\(result.stderr)")
            #expect(result.stdout.contains("org changed") || result.stderr.contains("org changed"), "\(result.stdout)")
        }
        #expect(world.jobCreations.count == creations)
        #expect(world.fingerprint() == before)
        #expect(try recordedOrg(world) == old)
    }

    @Test("--full --accept-new-org re-reads the new org (sweep bound lifted), records it, and later runs proceed")
    func acceptNewOrg() async throws {
        let world = try await E2EFixture { $0.contactCount = 40 }
        let job = try world.job("contacts")
        let first = try world.sfpg(["run", "contacts"] + Self.jobs)
        #expect(first.status == 0, "\(first.stderr)")
        let new = world.emulator.emulator.refreshOrg()
        // The new org lacks a quarter of the records: more than max_sweep (10%) lets a normal full run remove.
        let gone = Set(world.emulator.org.ids("Contact", includeDeleted: true).prefix(10))
        for id in gone { world.emulator.org.hardDelete("Contact", id: id) }
        let accepted = try world.sfpg(["run", "contacts", "--full", "--accept-new-org"] + Self.jobs)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        #expect(try recordedOrg(world) == new)
        // deletes: soft: the old org's records the new one lacks stay as rows marked deleted.
        #expect(try world.differences(job, tolerating: gone).isEmpty)
        let marked = try world.count(
            "SELECT count(*) FROM public.salesforce_contacts WHERE is_deleted AND salesforce_id IN ('\(gone.joined(separator: "','"))')")
        #expect(marked == gone.count)
        let incremental = try world.sfpg(["run", "contacts", "--incremental"] + Self.jobs)
        #expect(incremental.status == 0, "\(incremental.stderr)")
        let full = try world.sfpg(["run", "contacts", "--full"] + Self.jobs)
        #expect(full.status == 0, "\(full.stderr)")
        #expect(try recordedOrg(world) == new)
        #expect(try world.differences(job, tolerating: gone).isEmpty)
    }

    @Test("an org that changes while a run reads (its session logs in again) fails the run: exit 2, nothing committed")
    func orgChangedMidRun() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        let job = try world.job("contacts")
        try world.sync(job, .full)
        let old = world.emulator.organizationId
        let before = try world.table(job)
        let watermark = try world.connection.execute(
            "SELECT watermark::text AS w FROM sfpg.sync_state WHERE job_name = 'contacts'")[0, "w"]
        let runner = try world.runner()
        var new = ""
        runner.onBulkJobCreated = { _ in new = world.emulator.emulator.refreshOrg() }
        let outcome = runner.run(job, options: SyncOptions(mode: .full))
        #expect(outcome.status == .configuration, "\(outcome.error ?? "")")
        #expect(outcome.reason == .orgChanged)
        #expect(outcome.error?.contains(old) == true && outcome.error?.contains(new) == true, "\(outcome.error ?? "")")
        #expect(try recordedOrg(world) == old)
        #expect(try world.table(job) == before)
        #expect(
            try world.connection.execute(
                "SELECT watermark::text AS w FROM sfpg.sync_state WHERE job_name = 'contacts'")[0, "w"] == watermark)
    }

    @Test("--accept-new-org without --full is a bad command line: exit 64, nothing run")
    func acceptNewOrgNeedsFull() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        for mode in [[], ["--incremental"]] {
            let result = try world.sfpg(["run", "contacts", "--accept-new-org"] + mode + Self.jobs)
            #expect(result.status == 64, "\(result.stderr)")
            #expect(result.stderr.contains("--accept-new-org"), "\(result.stderr)")
        }
        #expect(world.jobCreations.isEmpty)
    }
}
