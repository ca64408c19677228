import Foundation
import PostgresLoader
import Testing

@Suite struct LockTests {
    @Test func secondConcurrentRunOfAJobFailsFast() throws {
        let fixture = try LoaderFixture()
        let other = try PostgresConnection(fixture.conninfo)
        try fixture.withRun { first in
            try first.begin()
            let error = #expect(throws: PostgresError.self) { try fixture.withRun(on: other) { _ in } }
            #expect(error?.code == .lockHeld)
            #expect(error?.message.contains("'contacts'") == true)

            // Another job writing the same table is blocked too: two merges or sweeps of one table never interleave.
            let sameTable = #expect(throws: PostgresError.self) { try fixture.withRun(on: other, job: "contacts-eu") { _ in } }
            #expect(sameTable?.code == .lockHeld)
            #expect(sameTable?.message.contains("salesforce_contacts") == true)

            // A job on another table is not.
            try SyncStore(other).withJobLock(
                "accounts", table: TableName(schema: "public", name: "salesforce_accounts"), policy: .failFast
            ) { _ in }

            try first.copyPage(1) { try $0.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))) }
            _ = try first.commitStaged()
        }
        try fixture.withRun(on: other) { second in
            #expect(second.previousWatermark == "2024-01-01T00:00:00.000Z")
        }
    }

    @Test func waitingRunProceedsAfterTheFirstCommits() throws {
        let fixture = try LoaderFixture()
        let setup = try PostgresConnection(fixture.conninfo)
        try setup.execute("CREATE TABLE waiter_saw (watermark text)")
        let conninfo = fixture.conninfo
        try fixture.withRun { first in
            try first.begin()
            try first.copyPage(1) { try $0.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))) }
            let waiter = Thread {
                guard let connection = try? PostgresConnection(conninfo), let fixture = try? LoaderFixture(existing: conninfo)
                else { return }
                // It can only get in after the first run released the lock, so it sees the committed watermark.
                try? fixture.withRun(on: connection, lock: .wait) { run in
                    _ = try? connection.execute("INSERT INTO waiter_saw VALUES ($1)", [run.previousWatermark ?? "none"])
                }
            }
            waiter.start()
            Thread.sleep(forTimeInterval: 0.2)
            #expect(try setup.execute("SELECT count(*) FROM waiter_saw").rows.first?.first == "0")
            _ = try first.commitStaged()
        }
        var seen: String?
        for _ in 0..<200 where seen == nil {
            seen = try setup.execute("SELECT watermark FROM waiter_saw").rows.first?.first ?? nil
            if seen == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(seen == "2024-01-01T00:00:00.000Z")
    }
}
