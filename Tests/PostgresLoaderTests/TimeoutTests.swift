import Foundation
@testable import PostgresLoader
import Testing
import TestSupport

/// sfpg's waits on PostgreSQL are bounded: connecting, unacknowledged writes, and the merge's lock waits; and a
/// server-side idle-in-transaction timeout cannot kill a run that waits on Salesforce between pages.
@Suite struct TimeoutTests {
    @Test func connectAndTCPUserTimeoutsDefaultButYieldToTheConnectionString() throws {
        let base = try TestPostgres.makeDatabase()
        let options = try PostgresConnection(base).effectiveOptions()
        #expect(options["connect_timeout"] == "10")
        #expect(options["tcp_user_timeout"] == "60000")
        let explicit = try PostgresConnection(base + " connect_timeout=3 tcp_user_timeout=5000").effectiveOptions()
        #expect(explicit["connect_timeout"] == "3")
        #expect(explicit["tcp_user_timeout"] == "5000")
    }

    @Test func environmentVariablesSetTheDefaultsAndAreChecked() throws {
        let parameters = try PostgresConnection.defaultParameters(environment: [
            "SFPG_PG_CONNECT_TIMEOUT": "4", "SFPG_PG_TCP_USER_TIMEOUT": "9000",
        ])
        #expect(parameters.contains { $0 == ("connect_timeout", "4") })
        #expect(parameters.contains { $0 == ("tcp_user_timeout", "9000") })
        // libpq's own variable still works: no default is added over it.
        let libpqVariable = try PostgresConnection.defaultParameters(environment: ["PGCONNECT_TIMEOUT": "7"])
        #expect(!libpqVariable.contains { $0.0 == "connect_timeout" })
        let both = try PostgresConnection.defaultParameters(environment: ["PGCONNECT_TIMEOUT": "7", "SFPG_PG_CONNECT_TIMEOUT": "4"])
        #expect(both.contains { $0 == ("connect_timeout", "4") })
        let bad = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection.defaultParameters(environment: ["SFPG_PG_CONNECT_TIMEOUT": "10 s"])
        }
        #expect(bad?.code == .configuration)
        #expect(try PostgresConnection.lockTimeout(environment: [:]) == "5min")
        #expect(try PostgresConnection.lockTimeout(environment: ["SFPG_PG_LOCK_TIMEOUT": "30s"]) == "30s")
        #expect(try PostgresConnection.lockTimeout(environment: ["SFPG_PG_LOCK_TIMEOUT": "0"]) == "0")
        #expect(throws: PostgresError.self) {
            _ = try PostgresConnection.lockTimeout(environment: ["SFPG_PG_LOCK_TIMEOUT": "5min'; DROP"])
        }
        #expect(try PostgresConnection.mergeWorkMem(environment: [:]) == "256MB")
        #expect(try PostgresConnection.mergeWorkMem(environment: ["SFPG_PG_MERGE_WORK_MEM": "1GB"]) == "1GB")
        for bad in ["256", "256mb", "1TB", "64MB'; DROP", ""] {
            #expect(throws: PostgresError.self, "\(bad)") {
                _ = try PostgresConnection.mergeWorkMem(environment: ["SFPG_PG_MERGE_WORK_MEM": bad])
            }
        }
    }

    @Test func idleInTransactionTimeoutIsOffForSfpgSessions() throws {
        let base = try TestPostgres.makeDatabase()
        let admin = try PostgresConnection(base)
        let database = try admin.execute("SELECT current_database()").rows.first?.first ?? nil
        try admin.execute("ALTER DATABASE \(SQLIdentifier.quote(database ?? "")) SET idle_in_transaction_session_timeout = '1s'")
        let connection = try PostgresConnection(base)
        #expect(try connection.execute("SHOW idle_in_transaction_session_timeout").rows == [["0"]])
        try connection.execute("BEGIN")
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try connection.execute("SELECT 1").rows == [["1"]])
        try connection.execute("COMMIT")
    }

    @Test func aMergeBlockedByAnotherSessionsLockFailsWithinTheTimeoutAndSaysWhy() throws {
        let fixture = try LoaderFixture()
        fixture.connection.lockTimeout = "1s"
        let holder = try PostgresConnection(fixture.conninfo)
        try holder.execute("BEGIN")
        try holder.execute("LOCK TABLE public.salesforce_contacts IN ACCESS EXCLUSIVE MODE")
        let started = ContinuousClock.now
        let error = #expect(throws: PostgresError.self) {
            try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))])
        }
        let waited = ContinuousClock.now - started
        try holder.execute("ROLLBACK")
        #expect(waited < .seconds(20), "\(waited)")
        #expect(error?.sqlState == "55P03")
        #expect(error?.message.contains("locked by another session") == true, "\(String(describing: error))")
        #expect(error?.message.contains("\"public\".\"salesforce_contacts\"") == true)
        #expect(error?.hint?.contains("SFPG_PG_LOCK_TIMEOUT") == true)
        #expect(try fixture.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'failed' AND error_message LIKE '%locked by another session%'") == 1)
        // Once the lock is gone, the same load goes through.
        try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))])
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 1)
    }
}
