import Foundation
import PostgresLoader
import Testing
import TestSupport

/// Through the `sfpg` executable: a rejected value is located but not echoed, and a merge blocked by another
/// session's lock fails within `SFPG_PG_LOCK_TIMEOUT` instead of hanging.
@Suite("CLI: database errors and waits", .serialized)
struct CLIDatabaseHardeningTests {
    @Test("a value the table rejects is named by page, line and field, never by its contents")
    func rejectedValueIsNotEchoed() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        let job = try world.job("contacts")
        // Every email now fails COPY with `invalid input syntax for type integer: "<the email>"`.
        try world.connection.execute("ALTER TABLE public.salesforce_contacts ALTER COLUMN email TYPE integer USING NULL")
        let result = try world.sfpg(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--log-level", "trace"])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("field Email (column email)"), "\(result.stderr)")
        #expect(result.stderr.contains("page 1, line "), "\(result.stderr)")
        let stored = try world.value("SELECT string_agg(error_message, E'\\n') FROM sfpg.sync_logs") ?? ""
        #expect(stored.contains("field Email"), "\(stored)")
        let emailIndex = try #require(job.fields.firstIndex { $0.source == "Email" })
        let emails = world.truth(job).compactMap { $0[emailIndex] }.filter { $0.contains("@") }
        #expect(!emails.isEmpty)
        let output = result.stdout + result.stderr + stored
        for email in emails { #expect(!output.contains(email), "\(email) leaked") }
    }

    @Test("a merge blocked by another session's table lock fails within SFPG_PG_LOCK_TIMEOUT and says why")
    func lockTimeout() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        let holder = try PostgresConnection(world.conninfo)
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE public.salesforce_contacts IN ACCESS EXCLUSIVE MODE")
        let started = ContinuousClock.now
        let result = try world.sfpg(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory], environment: ["SFPG_PG_LOCK_TIMEOUT": "1s"],
            timeout: .seconds(90))
        let waited = ContinuousClock.now - started
        try holder.execute("ROLLBACK")
        #expect(result.status == 1, "\(result.stderr)")
        #expect(waited < .seconds(45), "\(waited)")
        #expect(result.stderr.contains("is locked by another session"), "\(result.stderr)")

        let bad = try world.sfpg(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory],
                                 environment: ["SFPG_PG_LOCK_TIMEOUT": "soon"])
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("SFPG_PG_LOCK_TIMEOUT"))
    }
}
