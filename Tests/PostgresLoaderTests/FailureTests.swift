import Foundation
import PostgresLoader
import Testing

@Suite struct FailureTests {
    /// Loads a committed baseline: one row, a watermark and one success log row.
    private func baseline() throws -> LoaderFixture {
        let fixture = try LoaderFixture()
        try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z", first: "Kept"))])
        return fixture
    }

    private func expectUntouched(_ fixture: LoaderFixture) throws {
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 1)
        #expect(try fixture.contact(1, "first_name") == "Kept")
        #expect(try fixture.watermark() == "2024-01-01T00:00:00.000Z")
        #expect(try fixture.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'success'") == 1)
    }

    @Test func valueTooLongFailsWithPageLineAndFieldAndLeavesEverythingUntouched() throws {
        let fixture = try baseline()
        let error = #expect(throws: PostgresError.self) {
            try fixture.load([
                LoaderFixture.page(LoaderFixture.row(2, modstamp: "2024-02-01T00:00:00.000Z", first: "Changed")),
                LoaderFixture.page(
                    LoaderFixture.row(3, modstamp: "2024-02-01T00:00:00.000Z", title: "two\nlines"),
                    LoaderFixture.row(4, modstamp: "2024-02-01T00:00:00.000Z", account: "001000000000000AAAXX")),
            ])
        }
        // PostgreSQL's CSV "line" counts records, not physical lines: header, a record spanning two physical
        // lines, then the bad record is line 3.
        #expect(error?.message.hasPrefix("page 2, line 3, field AccountId (column account_id): ") == true, "\(error?.message ?? "")")
        #expect(error?.sqlState == "22001", "\(String(describing: error))")
        #expect(error?.description.contains("SQLSTATE 22001") == true)
        try expectUntouched(fixture)
        let failed = try fixture.connection.execute(
            "SELECT status, errors, error_message, completed_at >= started_at AS ordered FROM sfpg.sync_logs "
                + "WHERE status = 'failed'")
        #expect(failed.rows.count == 1)
        #expect(failed[0, "error_message"]?.contains("field AccountId") == true)
        #expect(failed[0, "ordered"] == "t")
    }

    @Test func invalidDateFailsWithSQLStateAndField() throws {
        let fixture = try baseline()
        let error = #expect(throws: PostgresError.self) {
            try fixture.load([
                LoaderFixture.page(
                    LoaderFixture.row(2, modstamp: "2024-02-01T00:00:00.000Z"),
                    LoaderFixture.row(3, modstamp: "2024-02-01T00:00:00.000Z", created: "31/02/2024 junk"))
            ])
        }
        #expect(error?.message.hasPrefix("page 1, line 3, field CreatedDate (column created_date): ") == true)
        #expect(error?.sqlState == "22007" || error?.sqlState == "22008")
        try expectUntouched(fixture)
        #expect(try fixture.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'failed'") == 1)
    }

    struct DownloadBroke: Error {}

    @Test func pageWhoseDownloadBrokeIsDiscardedAndCanBeRetried() throws {
        let fixture = try LoaderFixture()
        let summary = try fixture.withRun { run in
            try run.begin()
            #expect(throws: DownloadBroke.self) {
                try run.copyPage(1) { writer in
                    try writer.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z")))
                    try writer.write("\"0030000000")
                    throw DownloadBroke()
                }
            }
            try run.copyPage(1) { writer in
                try writer.write(LoaderFixture.page(LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z")))
            }
            return try run.commitStaged()
        }
        #expect(summary.counts.staged == 1)
        #expect(try fixture.contact(1, "salesforce_id") == nil)
        #expect(try fixture.contact(2, "salesforce_id") != nil)
    }

    @Test func connectionKilledMidCopyCommitsNothing() throws {
        let fixture = try baseline()
        let loader = try PostgresConnection(fixture.conninfo)
        let killer = try PostgresConnection(fixture.conninfo)
        #expect(throws: PostgresError.self) {
            try fixture.withRun(on: loader) { run in
                try SyncStore(loader).recordInFlightBulkJob(
                    "750000000000001AAA", query: "q", jobName: fixture.jobName, objectName: "Contact",
                    table: fixture.mapping.table)
                try run.begin()
                do {
                    try run.copyPage(1) { writer in
                        try writer.write(LoaderFixture.page(LoaderFixture.row(2, modstamp: "2024-05-01T00:00:00.000Z")))
                        try killer.execute("SELECT pg_terminate_backend($1::int)", [String(loader.backendPID)])
                        for number in 3..<2000 {
                            try writer.write(LoaderFixture.row(number, modstamp: "2024-05-01T00:00:00.000Z"))
                        }
                    }
                    _ = try run.commitStaged()
                } catch {
                    run.fail(error, salesforceJobId: nil, apiCalls: 0)
                    throw error
                }
            }
        }
        #expect(!loader.isConnected)
        try expectUntouched(fixture)
        #expect(try fixture.value("SELECT bulk_job_id FROM sfpg.sync_state") == "750000000000001AAA")
        // The lock died with the session: the next run can start and sees the job left in flight.
        try fixture.withRun { (run: LoadRun) throws in
            let state = try SyncStore(fixture.connection).state(ofJob: fixture.jobName)
            #expect(state.inFlightBulkJobId == "750000000000001AAA")
            run.fail(CancellationError(), status: .cancelled, salesforceJobId: nil, apiCalls: 0)
        }
        #expect(try fixture.value("SELECT status FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1") == "cancelled")
    }

    @Test func earlyServerRejectionStopsALongPage() throws {
        let fixture = try LoaderFixture()
        try fixture.withRun { run in
            try run.begin()
            var sentRows = 0
            let error = #expect(throws: PostgresError.self) {
                try run.copyPage(1) { writer in
                    try writer.write(LoaderFixture.header)
                    try writer.write(LoaderFixture.row(1, modstamp: "bad stamp"))
                    // ~60 MB if never stopped; the poll every 4 MiB should notice the ErrorResponse long before.
                    for number in 2..<300_000 {
                        try writer.write(LoaderFixture.row(number, modstamp: "2024-01-01T00:00:00.000Z"))
                        sentRows += 1
                    }
                }
            }
            #expect(error?.message.hasPrefix("page 1, line 2, field SystemModstamp (column system_modstamp)") == true)
            #expect(sentRows < 299_998)
            run.fail(error ?? PostgresError(.copy, "?"), salesforceJobId: nil, apiCalls: 0)
        }
    }

    /// A page whose bytes stop coming (retries exhausted, SIGTERM) must not leave its COPY open: the failed run
    /// still writes its row, and the connection is clean for the next job of the same invocation.
    @Test func failingMidPageEndsTheCopyAndLogsTheRun() throws {
        let fixture = try LoaderFixture()
        try fixture.withRun { run in
            try run.begin()
            let page = try run.beginPage(1)
            try page.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z")))
            // No finishPage, no abort: the download gave up with the page open.
            run.fail(DownloadBroke(), salesforceJobId: nil, apiCalls: 0)
        }
        #expect(!fixture.connection.isInTransaction)
        #expect(try fixture.value("SELECT status FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1") == "failed")
        try fixture.load([LoaderFixture.page(LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z"))])
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 1)
    }

    /// Even a caller that forgets `fail` cannot leave the connection inside a COPY or a transaction.
    @Test func leavingTheLockEndsAnOpenCopy() throws {
        let fixture = try LoaderFixture()
        #expect(throws: DownloadBroke.self) {
            try fixture.withRun { run in
                try run.begin()
                let page = try run.beginPage(1)
                try page.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z")))
                throw DownloadBroke()
            }
        }
        #expect(!fixture.connection.isInTransaction)
        try fixture.load([LoaderFixture.page(LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z"))])
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 1)
    }
}
