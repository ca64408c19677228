import Foundation
import PostgresLoader
import Testing

/// What a run must prove before it commits, and what it may never do to a table: issue #9's loader rules.
@Suite struct IntegrityTests {
    static let stamp = "2024-01-01T00:00:00.000Z"

    static func rows(_ numbers: ClosedRange<Int>, modstamp: String = stamp) -> String {
        LoaderFixture.page(numbers.map { LoaderFixture.row($0, modstamp: modstamp) }.joined())
    }

    /// Runs one load with the given evidence instead of the staged rows.
    @discardableResult
    static func load(
        _ fixture: LoaderFixture, _ pages: [String], _ syncType: SyncType = .full, fullSweep: Bool = true,
        evidence: ((LoadRun) -> Reconciliation)? = nil, allowMassDelete: Bool = false, snapshots: [SnapshotScope] = [],
        maxFutureSeconds: Int = LoadRun.maxClockSkewSeconds
    ) throws -> RunSummary {
        try fixture.withRun(syncType) { run in
            var reconciliation = Reconciliation()
            do {
                try run.begin()
                for (index, page) in pages.enumerated() { try run.copyPage(index + 1) { try $0.write(page) } }
                reconciliation = evidence?(run) ?? Reconciliation(expected: run.stagedRows, downloaded: run.stagedRows)
                return try run.commit(
                    CommitRequest(
                        fullSweep: fullSweep, reconciliation: reconciliation, allowMassDelete: allowMassDelete,
                        salesforceJobId: nil, apiCalls: 0, snapshots: snapshots, maxFutureSeconds: maxFutureSeconds))
            } catch {
                run.fail(error, reconciliation: reconciliation, salesforceJobId: nil, apiCalls: 0)
                throw error
            }
        }
    }

    @Test func runWhoseCountsDisagreeCommitsNothingAndLogsTheNumbers() throws {
        let fixture = try LoaderFixture()
        let error = #expect(throws: RunRefused.self) {
            _ = try Self.load(fixture, [Self.rows(1...2)]) { _ in Reconciliation(expected: 3, downloaded: 2, pages: 1) }
        }
        #expect(error?.reason == .incomplete)
        #expect(error?.message.contains("Salesforce reported 3 records, the 1 result pages delivered 2, and 2 rows were staged") == true)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        #expect(try fixture.watermark() == nil)
        let log = try fixture.connection.execute(
            "SELECT status, failure_reason, records_expected, records_downloaded, result_pages FROM sfpg.sync_logs")
        #expect(log.rows == [["failed", "incomplete", "3", "2", "1"]])
    }

    @Test func missingSalesforceCountIsNotProof() throws {
        let fixture = try LoaderFixture()
        let error = #expect(throws: RunRefused.self) {
            _ = try Self.load(fixture, [Self.rows(1...2)]) { run in Reconciliation(expected: nil, downloaded: run.stagedRows) }
        }
        #expect(error?.reason == .incomplete)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }

    @Test(arguments: [DeleteMode.soft, .hard])
    func sweepOverTheBoundChangesNothingUntilAllowedAndSweptRowsRevive(mode: DeleteMode) throws {
        let fixture = try LoaderFixture()
        fixture.mapping.deletes = mode
        try Self.load(fixture, [Self.rows(1...10)])
        let before = try fixture.connection.execute(
            "SELECT salesforce_id, is_deleted::text, synced_at::text FROM public.salesforce_contacts ORDER BY 1").rows

        // 3 of 10 vanish (hidden by a permission change, say): 30% > the default 10%.
        let error = #expect(throws: RunRefused.self) { _ = try Self.load(fixture, [Self.rows(1...7)]) }
        #expect(error?.reason == .sweepLimit)
        #expect(error?.message.contains("3 of 10 live rows") == true)
        #expect(error?.message.contains("max_sweep (10%, 1 rows)") == true)
        #expect(error?.message.contains("--allow-mass-delete") == true)
        #expect(try fixture.connection.execute(
            "SELECT salesforce_id, is_deleted::text, synced_at::text FROM public.salesforce_contacts ORDER BY 1").rows == before)
        #expect(try fixture.value("SELECT failure_reason FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1") == "sweep_limit")

        let allowed = try Self.load(fixture, [Self.rows(1...7)], allowMassDelete: true)
        #expect(allowed.counts.deleted == 3)
        switch mode {
        case .soft: #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts WHERE is_deleted") == 3)
        default: #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 7)
        }

        // Visible again with the very same SystemModstamp: live again, whatever the modstamp says.
        let revived = try Self.load(fixture, [Self.rows(1...10)])
        #expect(revived.counts.deleted == 0)
        #expect(try fixture.count(
            "SELECT count(*) FROM public.salesforce_contacts WHERE NOT is_deleted AND deleted_at IS NULL") == 10)
        #expect(revived.counts.inserted + revived.counts.updated == 3)
    }

    @Test func absoluteSweepLimitAllowsExactlyItsCount() throws {
        let fixture = try LoaderFixture()
        fixture.mapping.maxSweep = .count(3)
        try Self.load(fixture, [Self.rows(1...10)])
        #expect(throws: RunRefused.self) { _ = try Self.load(fixture, [Self.rows(1...6)]) }
        #expect(try Self.load(fixture, [Self.rows(1...7)]).counts.deleted == 3)
    }

    @Test func sweptRowWithOnlyADeletedAtColumnRevives() throws {
        let fixture = try LoaderFixture()
        fixture.mapping.isDeleted = nil
        try fixture.connection.execute(
            "ALTER TABLE public.salesforce_contacts ALTER COLUMN is_deleted DROP NOT NULL")
        let header = LoaderFixture.header.replacingOccurrences(of: "\"IsDeleted\",", with: "")
        func page(_ numbers: ClosedRange<Int>) -> String {
            header + numbers.map { "\"\(LoaderFixture.id($0))\",\"\(Self.stamp)\",\"A\",\"B\",,,,,,,\n" }.joined()
        }
        try Self.load(fixture, [page(1...2)])
        _ = try Self.load(fixture, [page(1...1)], allowMassDelete: true)
        #expect(try fixture.contact(2, "deleted_at") != nil)
        _ = try Self.load(fixture, [page(1...2)])
        #expect(try fixture.contact(2, "deleted_at") == nil)
    }

    @Test func timestampWithoutTimeZoneIsUTCInAnySessionZone() throws {
        let fixture = try LoaderFixture()
        try fixture.connection.execute(
            "ALTER TABLE public.salesforce_contacts ALTER COLUMN system_modstamp TYPE timestamp USING system_modstamp AT TIME ZONE 'UTC'")
        let database = try fixture.value("SELECT current_database()")!
        try fixture.connection.execute("ALTER DATABASE \(SQLIdentifier.quote(database)) SET TimeZone = 'America/Los_Angeles'")
        let west = try PostgresConnection(fixture.conninfo)
        #expect(try west.execute("SHOW TimeZone").rows.first?.first == "UTC")
        let stamp = "2024-03-01T12:34:56.789Z"
        let summary = try fixture.withRun(.full, on: west) { run in
            try run.begin()
            try run.copyPage(1) { try $0.write(Self.rows(1...2, modstamp: stamp)) }
            return try run.commitStaged()
        }
        #expect(summary.watermarkAfter == stamp)
        #expect(try fixture.watermark() == stamp)
        #expect(try fixture.contact(1, "system_modstamp") == "2024-03-01 12:34:56.789")
    }

    @Test func watermarkColumnMustBeATimestamp() throws {
        let fixture = try LoaderFixture()
        try fixture.connection.execute("ALTER TABLE public.salesforce_contacts ALTER COLUMN system_modstamp TYPE text")
        let error = #expect(throws: PostgresError.self) { try fixture.withRun { _ in } }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("make it timestamptz") == true)
    }

    @Test func storedRowWithoutModstampIsStillUpdated() throws {
        let fixture = try LoaderFixture()
        try fixture.connection.execute("ALTER TABLE public.salesforce_contacts ALTER COLUMN system_modstamp DROP NOT NULL")
        try fixture.connection.execute(
            "INSERT INTO public.salesforce_contacts (salesforce_id, first_name) VALUES ($1, 'Old')", [LoaderFixture.id(1)])
        let summary = try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: Self.stamp, first: "New"))])
        #expect(summary.counts.updated == 1)
        #expect(try fixture.contact(1, "first_name") == "New")
    }

    @Test func futureWatermarkIsRefused() throws {
        let fixture = try LoaderFixture()
        try Self.load(fixture, [Self.rows(1...2)])
        let watermark = try fixture.watermark()
        let error = #expect(throws: RunRefused.self) {
            _ = try Self.load(
                fixture,
                [LoaderFixture.page(
                    LoaderFixture.row(3, modstamp: Self.stamp), LoaderFixture.row(4, modstamp: "2099-01-01T00:00:00.000Z"))],
                .incremental, fullSweep: false)
        }
        #expect(error?.reason == .futureWatermark)
        #expect(error?.message.contains(LoaderFixture.id(4)) == true)
        #expect(try fixture.watermark() == watermark)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 2)
    }

    /// A page delivered twice and a lost page of the same size give the right row count; counting distinct keys
    /// catches it before the sweep deletes the lost page's records.
    @Test func aSweepingRunWithAKeyTwiceIsIncomplete() throws {
        let fixture = try LoaderFixture()
        try Self.load(fixture, [Self.rows(1...4)])
        let error = #expect(throws: RunRefused.self) {
            _ = try Self.load(fixture, [Self.rows(1...2), Self.rows(1...2)], allowMassDelete: true)
        }
        #expect(error?.reason == .incomplete)
        #expect(error?.message.contains("only 2 distinct") == true)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 4)
        // Without a sweep a key twice is harmless: the newest version wins.
        try Self.load(fixture, [Self.rows(1...2), Self.rows(1...2)], .incremental, fullSweep: false)
    }

    /// The watermark never passes the creation of a Bulk job whose results were loaded, and never the largest
    /// modstamp of any scope that had rows; a scope without rows contributes its job's creation.
    @Test func watermarkIsBoundedByEveryScopesJobAndRows() throws {
        let fixture = try LoaderFixture()
        let created = "2024-01-05T00:00:00.000+0000"
        let late = Self.rows(1...2, modstamp: "2024-01-06T00:00:00.000Z")
        let bounded = try Self.load(fixture, [late], snapshots: [SnapshotScope(createdDate: created)])
        #expect(bounded.watermarkAfter == "2024-01-05T00:00:00.000Z")

        // Two Id ranges read by two jobs: range A's rows stop at 01-07, range B's at 01-09; the watermark is A's.
        let fixture2 = try LoaderFixture()
        let middle = LoaderFixture.id(3)
        let rows = LoaderFixture.page(
            LoaderFixture.row(1, modstamp: "2024-01-07T00:00:00.000Z"), LoaderFixture.row(3, modstamp: "2024-01-09T00:00:00.000Z"))
        let split = try Self.load(
            fixture2, [rows],
            snapshots: [
                SnapshotScope(range: KeyRange(lower: nil, upper: middle), createdDate: "2024-01-10T00:00:00.000+0000"),
                SnapshotScope(range: KeyRange(lower: middle, upper: nil), createdDate: "2024-01-10T00:00:00.000+0000"),
            ])
        #expect(split.watermarkAfter == "2024-01-07T00:00:00.000Z")

        // A scope that loaded nothing still moves the watermark, but only to its job's creation.
        let empty = try Self.load(
            fixture2, [LoaderFixture.page()], .incremental, fullSweep: false,
            snapshots: [SnapshotScope(createdDate: "2024-01-08T00:00:00.000+0000")])
        #expect(empty.watermarkAfter == "2024-01-08T00:00:00.000Z")
    }

    /// Two versions within one second must not compare equal: a column rounding away milliseconds is refused.
    @Test func modstampColumnWithoutMillisecondsIsRefused() throws {
        let fixture = try LoaderFixture()
        try fixture.connection.execute(
            "ALTER TABLE public.salesforce_contacts ALTER COLUMN system_modstamp TYPE timestamptz(0)")
        let error = #expect(throws: PostgresError.self) { try fixture.withRun { _ in } }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("timestamptz(3)") == true)
    }

    /// The clock-skew allowance is at most the job's overlap: a watermark the next run could not read back over
    /// is refused.
    @Test func futureAllowanceIsTheOverlap() throws {
        let fixture = try LoaderFixture()
        let soon = try fixture.value(
            "SELECT to_char((now() + interval '2 minutes') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')") ?? ""
        let page = LoaderFixture.page(LoaderFixture.row(1, modstamp: soon))
        let error = #expect(throws: RunRefused.self) {
            _ = try Self.load(fixture, [page], .incremental, fullSweep: false, maxFutureSeconds: 60)
        }
        #expect(error?.reason == .futureWatermark)
        try Self.load(fixture, [page], .incremental, fullSweep: false, maxFutureSeconds: 300)
    }

    /// The upsert and the direct first load rest on a unique, non-deferrable index exactly on the key: checked when
    /// the run begins, not after the download.
    @Test(arguments: [
        "ALTER TABLE public.salesforce_contacts DROP CONSTRAINT salesforce_contacts_salesforce_id_key",
        """
        ALTER TABLE public.salesforce_contacts DROP CONSTRAINT salesforce_contacts_salesforce_id_key;
        ALTER TABLE public.salesforce_contacts ADD CONSTRAINT k UNIQUE (salesforce_id) DEFERRABLE
        """,
        """
        ALTER TABLE public.salesforce_contacts DROP CONSTRAINT salesforce_contacts_salesforce_id_key;
        CREATE UNIQUE INDEX k ON public.salesforce_contacts (salesforce_id, email)
        """,
    ])
    func keyWithoutAUsableUniqueIndexIsRefused(change: String) throws {
        let fixture = try LoaderFixture()
        try fixture.connection.executeScript(change)
        let error = #expect(throws: PostgresError.self) { try fixture.withRun { _ in } }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("unique, non-deferrable index") == true)
    }
}
