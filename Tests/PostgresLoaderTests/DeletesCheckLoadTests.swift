import PostgresLoader
import Testing

/// The loader's half of an incremental run's deletes check (issue 18): getDeleted's records and a key sweep's keys,
/// staged in the run's transaction and applied after the merge, never over a newer version.
@Suite struct DeletesCheckLoadTests {
    func seed(_ fixture: LoaderFixture) throws {
        try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-01T10:00:00.000Z"),
                LoaderFixture.row(2, modstamp: "2024-01-01T10:00:00.000Z"),
                LoaderFixture.row(3, modstamp: "2024-01-01T10:00:00.000Z"))
        ])
    }

    /// An incremental run with one page (record 2 undeleted and changed after its deletion) and getDeleted's list.
    func runWithDeleted(_ fixture: LoaderFixture, ids: [Int], dates: [String?]) throws -> RunSummary {
        try fixture.withRun { run in
            try run.begin()
            try run.copyPage(1) { try $0.write(LoaderFixture.page(LoaderFixture.row(2, modstamp: "2024-01-03T10:00:00.000Z", first: "Back"))) }
            try run.stageDeletedRecords(ids: ids.map(LoaderFixture.id), deletedDates: dates)
            return try run.commit(
                CommitRequest(
                    fullSweep: false, reconciliation: Reconciliation(expected: 1, downloaded: 1), salesforceJobId: nil,
                    apiCalls: 2, deletesCheck: .deletedRecords(coveredUntil: "2024-01-04T00:00:00.000Z")))
        }
    }

    @Test("soft: listed rows are marked deleted at deletedDate, a newer version survives, the position is stored")
    func softDeletesListedRows() throws {
        let fixture = try LoaderFixture()
        try seed(fixture)
        let summary = try runWithDeleted(
            fixture, ids: [1, 2, 9], dates: ["2024-01-02T10:00:00.000Z", "2024-01-02T10:00:00.000Z", nil])
        #expect(summary.counts.deleted == 1)
        #expect(try fixture.contact(1, "is_deleted") == "true")
        #expect(try fixture.value(
            "SELECT deleted_at = '2024-01-02T10:00:00Z' FROM public.salesforce_contacts WHERE salesforce_id = $1",
            [LoaderFixture.id(1)]) == "t")
        #expect(try fixture.contact(2, "is_deleted") == "false", "deleted, then undeleted and changed: newer than the deletion")
        #expect(try fixture.contact(2, "first_name") == "Back")
        #expect(try fixture.contact(3, "is_deleted") == "false")
        #expect(try fixture.value(
            "SELECT deletes_covered_until = '2024-01-04T00:00:00Z' FROM sfpg.sync_state WHERE job_name = 'contacts'") == "t")
        #expect(try fixture.value("SELECT records_deleted FROM sfpg.sync_logs WHERE id = $1", [String(summary.runId)]) == "1")
    }

    @Test("hard: listed rows are deleted, and audited with their old values")
    func hardDeletesListedRowsAndAudits() throws {
        let fixture = try LoaderFixture()
        fixture.mapping.deletes = .hard
        fixture.mapping.audit = AuditPolicy()
        try seed(fixture)
        let summary = try runWithDeleted(fixture, ids: [1, 2], dates: ["2024-01-02T10:00:00.000Z", "2024-01-02T10:00:00.000Z"])
        #expect(summary.counts.deleted == 1)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 2)
        #expect(try fixture.contact(1, "first_name") == nil)
        #expect(try fixture.contact(2, "first_name") == "Back")
        #expect(try fixture.value(
            "SELECT changes -> 'first_name' ->> 'old' FROM sfpg.changes WHERE record_key = $1 AND operation = 'delete'",
            [LoaderFixture.id(1)]) == "Ada")
    }

    /// A key sweep's keys, as the run pipeline stages them from a `SELECT Id` query's pages.
    func runWithKeys(_ fixture: LoaderFixture, keys: [Int], allowMassDelete: Bool = false) throws -> RunSummary {
        try fixture.withRun { run in
            do {
                try run.begin()
                let sink = try run.keySweepSink()
                let page = try sink.beginPage(1)
                try page.write("\"Id\"\n" + keys.map { "\"\(LoaderFixture.id($0))\"\n" }.joined())
                #expect(try sink.finishPage(page) == keys.count)
                return try run.commit(
                    CommitRequest(
                        fullSweep: false, reconciliation: Reconciliation(expected: 0, downloaded: 0),
                        allowMassDelete: allowMassDelete, salesforceJobId: nil, apiCalls: 2,
                        deletesCheck: .keySweep(coveredUntil: "2024-01-04T00:00:00.000Z")))
            } catch {
                run.fail(error, salesforceJobId: nil, apiCalls: 2)
                throw error
            }
        }
    }

    @Test("a key sweep marks rows whose key Salesforce no longer has, within max_sweep, else refuses and changes nothing")
    func keySweepIsBounded() throws {
        let fixture = try LoaderFixture()
        fixture.mapping.maxSweep = .count(1)
        try seed(fixture)
        #expect(throws: RunRefused.self) { try runWithKeys(fixture, keys: [1]) }
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts WHERE is_deleted") == 0)
        #expect(try fixture.value("SELECT deletes_covered_until FROM sfpg.sync_state WHERE job_name = 'contacts'") == nil)
        let summary = try runWithKeys(fixture, keys: [1, 2])
        #expect(summary.counts.deleted == 1)
        #expect(try fixture.contact(3, "is_deleted") == "true")
        #expect(try fixture.contact(2, "is_deleted") == "false")
    }
}
