import PostgresLoader
import Testing

/// A first load into an empty table copies straight into it (issue #12), and gives the same table, counts and
/// watermark as the staged path; whatever the data or the table needs that COPY cannot do goes through staging.
@Suite struct DirectLoadTests {
    static func rows(_ range: ClosedRange<Int>, deletedEvery: Int = 0) -> String {
        LoaderFixture.page(range.map {
            LoaderFixture.row($0, modstamp: "2024-01-0\($0 % 9 + 1)T00:00:00.000Z", deleted: deletedEvery > 0 && $0 % deletedEvery == 0)
        }.joined())
    }

    /// The same load through each path, on two fresh databases: the tables and the counts must agree.
    func bothPaths(_ mode: DeleteMode, _ pages: [String]) throws -> (direct: RunSummary, staged: RunSummary, same: Bool) {
        func load(direct: Bool) throws -> (RunSummary, [[String?]]) {
            let fixture = try LoaderFixture()
            fixture.mapping.deletes = mode
            let summary = try fixture.withRun(.full) { run in
                run.allowsDirectLoad = direct
                try run.begin()
                for (index, page) in pages.enumerated() { try run.copyPage(index + 1) { try $0.write(page) } }
                return try run.commitStaged(fullSweep: true)
            }
            let rows = try fixture.connection.execute(
                """
                SELECT salesforce_id, system_modstamp::text, is_deleted::text, first_name, email, deleted_at IS NOT NULL,
                    synced_at IS NOT NULL FROM public.salesforce_contacts ORDER BY 1
                """).rows
            return (summary, rows)
        }
        let (direct, directRows) = try load(direct: true)
        let (staged, stagedRows) = try load(direct: false)
        return (direct, staged, directRows == stagedRows && !directRows.isEmpty)
    }

    @Test(arguments: [DeleteMode.soft, .hard, .ignore])
    func firstLoadCopiesStraightIntoTheTableWithTheStagedPathsResult(mode: DeleteMode) throws {
        let (direct, staged, same) = try bothPaths(mode, [Self.rows(1...40, deletedEvery: 8), Self.rows(41...60)])
        #expect(direct.path == .direct)
        #expect(staged.path == .staged)
        #expect(same)
        #expect(direct.counts == staged.counts)
        #expect(direct.watermarkAfter == staged.watermarkAfter)
        #expect(direct.watermarkAfter == "2024-01-09T00:00:00.000Z")
    }

    @Test func aKeyTwiceFallsBackToStagingAndTheNewestWins() throws {
        let fixture = try LoaderFixture()
        let summary = try fixture.load(
            [Self.rows(1...5), LoaderFixture.page(LoaderFixture.row(3, modstamp: "2024-02-01T00:00:00.000Z", first: "Newest"))],
            .full)
        #expect(summary.path == .staged)
        #expect(summary.counts.staged == 6)
        #expect(summary.counts.inserted == 5)
        #expect(try fixture.contact(3, "first_name") == "Newest")
        #expect(try fixture.count("SELECT count(*) FROM sfpg.sync_logs") == 1)
        #expect(try fixture.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'success'") == 1)
    }

    @Test func aDirectRunWithoutTheFallbackReportsTheConflict() throws {
        let fixture = try LoaderFixture()
        let error = #expect(throws: DirectLoadConflict.self) {
            try fixture.withRun(.full) { run in
                try run.begin()
                #expect(run.path == .direct)
                try run.copyPage(1) { try $0.write(Self.rows(1...3)) }
                try run.copyPage(2) { try $0.write(Self.rows(3...4)) }
            }
        }
        #expect(error != nil)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
        #expect(!fixture.connection.isInTransaction)
    }

    @Test func aTableThatIsNotEmptyOrNeedsTransformsIsStaged() throws {
        let fixture = try LoaderFixture()
        try fixture.load([Self.rows(1...3)], .full)
        #expect(try fixture.load([Self.rows(1...4)], .full).path == .staged)

        let audited = try LoaderFixture()
        audited.mapping.audit = AuditPolicy()
        #expect(try audited.load([Self.rows(1...3)], .full).path == .staged)

        let noDefault = try LoaderFixture()
        try noDefault.connection.execute("ALTER TABLE public.salesforce_contacts ALTER COLUMN synced_at DROP DEFAULT")
        let summary = try noDefault.load([Self.rows(1...3)], .full)
        #expect(summary.path == .staged)
        #expect(try noDefault.count("SELECT count(*) FROM public.salesforce_contacts WHERE synced_at IS NULL") == 0)
    }

    @Test func directLoadsAreProvenAndBoundedLikeStagedOnes() throws {
        let fixture = try LoaderFixture()
        let refused = #expect(throws: RunRefused.self) {
            try fixture.withRun(.full) { run in
                try run.begin()
                #expect(run.path == .direct)
                try run.copyPage(1) { try $0.write(Self.rows(1...3)) }
                _ = try run.commit(
                    CommitRequest(
                        fullSweep: true, reconciliation: Reconciliation(expected: 4, downloaded: 3, pages: 1),
                        salesforceJobId: nil, apiCalls: 0))
            }
        }
        #expect(refused?.reason == .incomplete)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 0)

        let future = #expect(throws: RunRefused.self) {
            try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2099-01-01T00:00:00.000Z"))], .full)
        }
        #expect(future?.reason == .futureWatermark)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }
}
