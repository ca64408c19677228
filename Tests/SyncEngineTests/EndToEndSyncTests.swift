import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing

@Suite("End to end: full syncs")
struct EndToEndSyncTests {
    @Test("a full sync over several pages gives a table equal to the org, field by field")
    func fullSyncEqualsTruth() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 3_000
            $0.defaultPageSize = 700
        }
        let job = try world.job("contacts")
        let outcome = try world.sync(job, .full)
        #expect(outcome.plan?.mode == .full)
        #expect(outcome.summary?.counts.staged == 3_000)
        #expect(outcome.summary?.counts.inserted == 3_000)
        // Several result pages were fetched: the first without a locator, the rest with one.
        let pages = world.emulator.requests.filter { $0.path.hasSuffix("/results") }
        #expect(pages.count >= 5)

        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 3_000)
        // The watermark is the largest SystemModstamp of the org.
        let modstampIndex = try #require(job.fields.firstIndex { $0.source == "SystemModstamp" })
        let newest = world.truth(job).compactMap { $0[modstampIndex] }.max()
        let watermark = try world.connection.execute(
            "SELECT to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM sfpg.sync_state WHERE job_name = 'contacts'"
        ).rows.first?.first ?? nil
        #expect(watermark == newest)
        let log = try world.connection.execute(
            "SELECT status, sync_type, records_processed, records_inserted FROM sfpg.sync_logs WHERE job_name = 'contacts'")
        #expect(log.rows.map { $0.map { $0 ?? "" } } == [["success", "full", "3000", "3000"]])
    }

    @Test("a second full sync of an unchanged org changes nothing")
    func repeatedFullSyncIsIdempotent() async throws {
        let world = try await E2EFixture { $0.contactCount = 400 }
        let job = try world.job("contacts")
        try world.sync(job, .full)
        let before = try world.connection.execute(
            "SELECT md5(string_agg(t::text, '|' ORDER BY salesforce_id)) FROM (SELECT salesforce_id, first_name, email, system_modstamp, is_deleted, deleted_at FROM public.salesforce_contacts) t"
        ).rows
        let second = try world.sync(job, .full)
        #expect(second.summary?.counts.inserted == 0)
        #expect(second.summary?.counts.updated == 0)
        #expect(second.summary?.counts.deleted == 0)
        let after = try world.connection.execute(
            "SELECT md5(string_agg(t::text, '|' ORDER BY salesforce_id)) FROM (SELECT salesforce_id, first_name, email, system_modstamp, is_deleted, deleted_at FROM public.salesforce_contacts) t"
        ).rows
        #expect(before == after)
    }

    @Test("two jobs in one invocation both load, each equal to its object")
    func twoJobsInOneInvocation() async throws {
        let world = try await E2EFixture { $0.contactCount = 500 }
        let contacts = try world.job("contacts")
        let accounts = try world.job("accounts")
        let outcomes = try world.runner().run([contacts, accounts], options: SyncOptions(mode: .full))
        #expect(outcomes.map(\.job) == ["contacts", "accounts"])
        #expect(outcomes.map(\.status) == [.success, .success], "\(outcomes.compactMap(\.error))")
        for job in [contacts, accounts] {
            let differences = try world.differences(job)
            #expect(differences.isEmpty, "\(job.name): \(differences.joined(separator: "\n"))")
        }
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state") == 2)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'success'") == 2)
        #expect(Set(outcomes.compactMap(\.salesforceJobId)).count == 2)
    }
}
