import PostgresLoader
import Testing

/// The first-load fast path and what a re-sync of unchanged rows costs the table.
@Suite struct MergePathTests {
    static func rows(_ range: ClosedRange<Int>, modstamp: String, deletedEvery: Int = 0) -> [String] {
        range.map { LoaderFixture.row($0, modstamp: modstamp, deleted: deletedEvery > 0 && $0 % deletedEvery == 0) }
    }

    /// Table statistics after forcing this session's pending counters out to the shared stats.
    func stats(_ fixture: LoaderFixture) throws -> (updated: Int, deleted: Int, dead: Int, live: Int) {
        try fixture.connection.execute("SELECT pg_stat_force_next_flush()")
        let result = try fixture.connection.execute(
            "SELECT n_tup_upd, n_tup_del, n_dead_tup, n_live_tup FROM pg_stat_user_tables "
                + "WHERE relid = 'public.salesforce_contacts'::regclass")
        func int(_ column: Int) -> Int { Int(result.rows.first?[column] ?? "") ?? -1 }
        return (int(0), int(1), int(2), int(3))
    }

    @Test func firstLoadIntoAnEmptyTableIsAPlainInsertWithTheRightCounts() throws {
        let fixture = try LoaderFixture()
        // Two pages, one key on both (the newer must win), every fifth record soft-deleted in Salesforce.
        let first = try fixture.load(
            [
                LoaderFixture.page(Self.rows(1...30, modstamp: "2024-01-01T00:00:00.000Z", deletedEvery: 5).joined()),
                LoaderFixture.page(LoaderFixture.row(7, modstamp: "2024-01-02T00:00:00.000Z", first: "Newer")),
            ], .incremental, fullSweep: false)
        #expect(first.intoEmptyTable)
        #expect(first.counts.staged == 31)
        #expect(first.counts.inserted == 24)
        #expect(first.counts.deleted == 6)
        #expect(first.counts.updated == 0)
        #expect(first.counts.unchanged == 0)
        #expect(first.watermarkAfter == "2024-01-02T00:00:00.000Z")
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 30)
        #expect(try fixture.contact(7, "first_name") == "Newer")
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts WHERE deleted_at IS NOT NULL") == 6)

        // The table is no longer empty: the same rows again go through the upsert and change nothing.
        let second = try fixture.load(
            [LoaderFixture.page(Self.rows(1...30, modstamp: "2024-01-01T00:00:00.000Z", deletedEvery: 5).joined())])
        #expect(!second.intoEmptyTable)
        #expect(second.counts.inserted == 0)
        #expect(second.counts.updated == 0)
        #expect(second.counts.unchanged + second.counts.deleted == 30)
        #expect(try fixture.contact(7, "first_name") == "Newer")
    }

    @Test func aTableEmptiedOutsideSfpgTakesTheFastPathAgain() throws {
        let fixture = try LoaderFixture()
        try fixture.load([LoaderFixture.page(Self.rows(1...3, modstamp: "2024-01-01T00:00:00.000Z").joined())])
        try fixture.connection.execute("DELETE FROM public.salesforce_contacts")
        let reload = try fixture.load(
            [LoaderFixture.page(Self.rows(1...4, modstamp: "2024-01-01T00:00:00.000Z").joined())])
        #expect(reload.intoEmptyTable)
        #expect(reload.counts.inserted == 4)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 4)
    }

    @Test func aReSyncWritesNewVersionsOnlyForChangedRows() throws {
        let fixture = try LoaderFixture()
        let all = Self.rows(1...200, modstamp: "2024-01-01T00:00:00.000Z")
        try fixture.load([LoaderFixture.page(all.joined())], .full)
        try fixture.connection.execute("VACUUM public.salesforce_contacts")
        let before = try stats(fixture)

        // Every row again, unchanged: no new row versions, no dead tuples.
        let unchanged = try fixture.load([LoaderFixture.page(all.joined())], .full, fullSweep: true)
        #expect(unchanged.counts.unchanged == 200)
        let afterUnchanged = try stats(fixture)
        #expect(afterUnchanged.updated == before.updated)
        #expect(afterUnchanged.deleted == before.deleted)
        #expect(afterUnchanged.dead == before.dead)

        // Ten rows newer: exactly ten new versions, so at most ten dead tuples.
        var changed = all
        for number in 1...10 { changed[number - 1] = LoaderFixture.row(number, modstamp: "2024-02-01T00:00:00.000Z") }
        let tenChanged = try fixture.load([LoaderFixture.page(changed.joined())], .full, fullSweep: true)
        #expect(tenChanged.counts.updated == 10)
        #expect(tenChanged.counts.unchanged == 190)
        let afterTen = try stats(fixture)
        #expect(afterTen.updated - afterUnchanged.updated == 10)
        #expect(afterTen.dead - afterUnchanged.dead <= 10)
    }
}
