import Foundation
import PostgresLoader
import Testing

@Suite struct LockTests {
    @Test func secondConcurrentRunOfAJobFailsFast() throws {
        let fixture = try LoaderFixture()
        let other = try PostgresConnection(fixture.conninfo)
        let first = try fixture.makeRun()
        try first.begin()
        let error = #expect(throws: PostgresError.self) { _ = try fixture.makeRun(on: other) }
        #expect(error?.code == .lockHeld)
        #expect(error?.message.contains("'contacts'") == true)

        // A different job is not blocked.
        let otherJob = try LoadRun(
            connection: other, jobName: "contacts-eu", objectName: "Contact", mapping: fixture.mapping,
            syncType: .full)
        otherJob.fail(CancellationError(), status: "cancelled", salesforceJobId: nil, apiCalls: 0)

        try first.copyPage(1) { try $0.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))) }
        _ = try first.commit(fullSweep: false, salesforceJobId: nil, apiCalls: 0)
        let second = try fixture.makeRun(on: other)
        #expect(second.previousWatermark == "2024-01-01T00:00:00.000Z")
        second.fail(CancellationError(), status: "cancelled", salesforceJobId: nil, apiCalls: 0)
    }

    @Test func waitingRunProceedsAfterTheFirstCommits() throws {
        let fixture = try LoaderFixture()
        let first = try fixture.makeRun()
        try first.begin()
        try first.copyPage(1) { try $0.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))) }
        let conninfo = fixture.conninfo
        let mapping = fixture.mapping
        let waiter = Thread {
            guard let connection = try? PostgresConnection(conninfo),
                let run = try? LoadRun(
                    connection: connection, jobName: "contacts", objectName: "Contact", mapping: mapping,
                    syncType: .incremental, lock: .wait)
            else { return }
            // It can only get here after the first run released the lock, so it sees the committed watermark.
            _ = try? connection.execute(
                "INSERT INTO waiter_saw VALUES ($1)", [run.previousWatermark ?? "none"])
            run.fail(CancellationError(), status: "cancelled", salesforceJobId: nil, apiCalls: 0)
        }
        let setup = try PostgresConnection(conninfo)
        try setup.execute("CREATE TABLE waiter_saw (watermark text)")
        waiter.start()
        Thread.sleep(forTimeInterval: 0.2)
        _ = try first.commit(fullSweep: false, salesforceJobId: nil, apiCalls: 0)
        var seen: String?
        for _ in 0..<200 where seen == nil {
            seen = try setup.execute("SELECT watermark FROM waiter_saw").rows.first?.first ?? nil
            if seen == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        #expect(seen == "2024-01-01T00:00:00.000Z")
    }
}
