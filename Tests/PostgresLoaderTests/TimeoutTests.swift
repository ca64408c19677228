import Foundation
@testable import PostgresLoader
import SettingsSyntax
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

    @Test func settingsSetTheDefaultsAndAreChecked() throws {
        func settings(_ values: [String: String]) throws -> PostgresSettings {
            try PostgresSettings(SettingsSource(values))
        }
        let parameters = try settings(["SFPG_PG_CONNECT_TIMEOUT": "4", "SFPG_PG_TCP_USER_TIMEOUT": "9s"]).connectionParameters
        #expect(parameters.contains { $0 == ("connect_timeout", "4") })
        #expect(parameters.contains { $0 == ("tcp_user_timeout", "9000") })
        #expect(try settings(["SFPG_PG_CONNECT_TIMEOUT": "1min"]).connectionParameters.contains { $0 == ("connect_timeout", "60") })
        // libpq's own variable still works: no default is added over it.
        #expect(try !settings(["PGCONNECT_TIMEOUT": "7"]).connectionParameters.contains { $0.0 == "connect_timeout" })
        let both = try settings(["PGCONNECT_TIMEOUT": "7", "SFPG_PG_CONNECT_TIMEOUT": "4"]).connectionParameters
        #expect(both.contains { $0 == ("connect_timeout", "4") })
        let bad = #expect(throws: SettingError.self) { _ = try settings(["SFPG_PG_CONNECT_TIMEOUT": "10 sec"]) }
        #expect(bad?.setting == "SFPG_PG_CONNECT_TIMEOUT")
        // Libpq and PostgreSQL read a bare number here as milliseconds: refused rather than guessed.
        #expect(throws: SettingError.self) { _ = try settings(["SFPG_PG_TCP_USER_TIMEOUT": "60000"]) }
        let connection = { (values: [String: String]) in
            try PostgresConnection(try TestPostgres.makeDatabase(), settings: try settings(values))
        }
        #expect(try connection([:]).lockTimeout == "5min")
        for (text, expected) in [("30s", "30s"), ("5m", "5min"), ("5min", "5min"), ("2h", "2h"), ("0", "0"), ("1500ms", "1500ms")] {
            #expect(try settings(["SFPG_PG_LOCK_TIMEOUT": text]).lockTimeout == DurationSyntax.duration(expected))
        }
        for bad in ["5min'; DROP", "300", "-1s", "5 minutes"] {
            #expect(throws: SettingError.self, "\(bad)") { _ = try settings(["SFPG_PG_LOCK_TIMEOUT": bad]) }
        }
        #expect(try settings([:]).mergeWorkMem == "256MB")
        #expect(try settings(["SFPG_PG_MERGE_WORK_MEM": " 1GB\n"]).mergeWorkMem == "1GB")
        for bad in ["256", "256mb", "1TB", "64MB'; DROP"] {
            #expect(throws: SettingError.self, "\(bad)") { _ = try settings(["SFPG_PG_MERGE_WORK_MEM": bad]) }
        }
    }

    @Test func theLockTimeoutReachesTheServerInItsOwnUnits() throws {
        let settings = try PostgresSettings(SettingsSource(["SFPG_PG_LOCK_TIMEOUT": "90s"]))
        let connection = try PostgresConnection(try TestPostgres.makeDatabase(), settings: settings)
        try connection.execute("BEGIN")
        try connection.limitLockWaits()
        #expect(try connection.execute("SHOW lock_timeout").rows == [["90s"]])
        try connection.execute("ROLLBACK")
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
