@testable import PostgresLoader
import Testing

@Suite struct MergeTests {
    @Test func countsInsertedUpdatedAndUnchanged() throws {
        let fixture = try LoaderFixture()
        let first = try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-01T10:00:00.000Z"),
                LoaderFixture.row(2, modstamp: "2024-01-01T11:00:00.000Z"),
                LoaderFixture.row(3, modstamp: "2024-01-01T12:00:00.000Z"))
        ])
        #expect(first.counts == MergeCounts(staged: 3, inserted: 3, maxModstamp: "2024-01-01T12:00:00.000Z"))
        #expect(first.watermarkBefore == nil)
        #expect(first.watermarkAfter == "2024-01-01T12:00:00.000Z")

        let second = try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-02T10:00:00.000Z", first: "Grace"),
                LoaderFixture.row(2, modstamp: "2024-01-01T11:00:00.000Z"),
                LoaderFixture.row(4, modstamp: "2024-01-01T09:00:00.000Z"))
        ])
        #expect(second.counts.inserted == 1)
        #expect(second.counts.updated == 1)
        #expect(second.counts.unchanged == 1)
        #expect(second.counts.deleted == 0)
        #expect(try fixture.contact(1, "first_name") == "Grace")
        #expect(try fixture.contact(2, "first_name") == "Ada")
        #expect(second.watermarkBefore == "2024-01-01T12:00:00.000Z")
        #expect(second.watermarkAfter == "2024-01-02T10:00:00.000Z")
        #expect(try fixture.watermark() == "2024-01-02T10:00:00.000Z")
        let log = try fixture.connection.execute(
            "SELECT status, records_inserted, records_updated, records_unchanged, api_calls_used, sync_type "
                + "FROM sfpg.sync_logs WHERE id = $1", [String(second.runId)])
        #expect(log.rows == [["success", "1", "1", "1", "3", "incremental"]])
    }

    /// The same version of a record with another value in a mapped column (a field new to the job, a formula that
    /// moved, a value edited in PostgreSQL) is rewritten and counted as updated; an older version still is not.
    @Test func sameVersionWithAnotherValueIsRewrittenOlderIsNot() throws {
        let fixture = try LoaderFixture()
        try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-01T10:00:00.000Z", title: nil),
                LoaderFixture.row(2, modstamp: "2024-01-01T10:00:00.000Z"),
                LoaderFixture.row(3, modstamp: "2024-01-03T10:00:00.000Z", first: "Newest"))
        ])
        try fixture.connection.execute(
            "UPDATE public.salesforce_contacts SET email = 'edited@behind.example' WHERE salesforce_id = $1",
            [LoaderFixture.id(2)])
        let again = try fixture.load(
            [
                LoaderFixture.page(
                    LoaderFixture.row(1, modstamp: "2024-01-01T10:00:00.000Z", title: "CEO"),
                    LoaderFixture.row(2, modstamp: "2024-01-01T10:00:00.000Z"),
                    LoaderFixture.row(3, modstamp: "2024-01-02T10:00:00.000Z", first: "Older"))
            ], .full, fullSweep: true)
        #expect(again.counts.updated == 2)
        #expect(again.counts.unchanged == 1)
        #expect(try fixture.contact(1, "title") == "CEO")
        #expect(try fixture.contact(2, "email") == "ada@example.com")
        #expect(try fixture.contact(3, "first_name") == "Newest")
    }

    /// The same rules when the merge looks each stored row up by its key instead of hashing the whole target: a run
    /// that staged far fewer rows than the table holds (``LoadPlan/looksUpStoredRows(staged:stored:)``).
    @Test func fewStagedRowsFindTheirStoredRowsByKeyUnderTheSameRules() throws {
        #expect(LoadPlan.looksUpStoredRows(staged: 4, stored: 40))
        #expect(!LoadPlan.looksUpStoredRows(staged: 10, stored: 40))
        #expect(!LoadPlan.looksUpStoredRows(staged: 4, stored: -1))
        let fixture = try LoaderFixture()
        try fixture.load([LoaderFixture.header + (1...40).map { LoaderFixture.row($0, modstamp: "2024-01-01T10:00:00.000Z") }.joined()])
        try fixture.connection.execute("ANALYZE public.salesforce_contacts")
        try fixture.connection.execute(
            "UPDATE public.salesforce_contacts SET email = 'edited@behind.example' WHERE salesforce_id = $1", [LoaderFixture.id(2)])
        let again = try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-01T10:00:00.000Z", title: "CEO"),
                LoaderFixture.row(2, modstamp: "2024-01-01T10:00:00.000Z"),
                LoaderFixture.row(3, modstamp: "2023-12-01T10:00:00.000Z", first: "Older"),
                LoaderFixture.row(41, modstamp: "2024-01-02T10:00:00.000Z", first: "New"))
        ])
        #expect(again.counts.inserted == 1)
        #expect(again.counts.updated == 2)
        #expect(again.counts.unchanged == 1)
        #expect(try fixture.contact(1, "title") == "CEO")
        #expect(try fixture.contact(2, "email") == "ada@example.com")
        #expect(try fixture.contact(3, "first_name") == "Ada")
        #expect(try fixture.contact(41, "first_name") == "New")
    }

    @Test func olderVersionNeverOverwritesNewerRowNorLowersWatermark() throws {
        let fixture = try LoaderFixture()
        try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-03-01T00:00:00.000Z", first: "New"))])
        let stale = try fixture.load([
            LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-02-01T00:00:00.000Z", first: "Old"))
        ])
        #expect(stale.counts.unchanged == 1)
        #expect(stale.counts.updated == 0)
        #expect(try fixture.contact(1, "first_name") == "New")
        #expect(try fixture.watermark() == "2024-03-01T00:00:00.000Z")
    }

    @Test func duplicateIdsAcrossPagesKeepTheNewest() throws {
        let fixture = try LoaderFixture()
        let summary = try fixture.load([
            LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-02T00:00:00.000Z", first: "Middle")),
            LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-03T00:00:00.000Z", first: "Newest")),
            LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z", first: "Oldest")),
        ])
        #expect(summary.counts.staged == 3)
        #expect(summary.counts.inserted == 1)
        #expect(try fixture.contact(1, "first_name") == "Newest")
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 1)
    }

    @Test func duplicateIdsIntoAFilledTableKeepTheNewestAndCountOnce() throws {
        let fixture = try LoaderFixture()
        try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z", first: "Stored"))])
        let summary = try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-03T00:00:00.000Z", first: "Newest"),
                LoaderFixture.row(2, modstamp: "2024-01-02T00:00:00.000Z", first: "Two")),
            LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-02T00:00:00.000Z", first: "Older")),
        ])
        #expect(summary.counts.staged == 3)
        #expect(summary.counts.updated == 1)
        #expect(summary.counts.inserted == 1)
        #expect(summary.counts.unchanged == 0)
        #expect(try fixture.contact(1, "first_name") == "Newest")
    }

    /// ON CONFLICT row-locks every stored row it meets, changed or not; the merge's join against the target keeps
    /// unchanged rows away from it, so a re-sync leaves them untouched (no lock, no new version).
    @Test func unchangedRowsAreNeitherRewrittenNorLocked() throws {
        let fixture = try LoaderFixture()
        let rows = (1...20).map { LoaderFixture.row($0, modstamp: "2024-01-01T00:00:00.000Z") }
        try fixture.load([LoaderFixture.page(rows.joined())])
        let before = try fixture.connection.execute("SELECT salesforce_id, xmin::text, xmax::text FROM public.salesforce_contacts ORDER BY 1").rows
        var again = rows
        again[4] = LoaderFixture.row(5, modstamp: "2024-01-02T00:00:00.000Z", first: "Changed")
        let summary = try fixture.load([LoaderFixture.page(again.joined())])
        #expect(summary.counts.updated == 1)
        #expect(summary.counts.unchanged == 19)
        let after = try fixture.connection.execute("SELECT salesforce_id, xmin::text, xmax::text FROM public.salesforce_contacts ORDER BY 1").rows
        #expect(after.count == 20)
        for (old, new) in zip(before, after) where old[0] != after[4][0] {
            #expect(new == old, "\(old[0] ?? "?") was rewritten or locked")
        }
        #expect(after[4][1] != before[4][1])
    }

    @Test func softDeleteMarksRowsAndUndeleteClearsDeletedAt() throws {
        let fixture = try LoaderFixture()
        try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))])
        let deleted = try fixture.load([
            LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-02T00:00:00.000Z", deleted: true))
        ])
        #expect(deleted.counts.deleted == 1)
        #expect(try fixture.contact(1, "is_deleted") == "true")
        #expect(try fixture.contact(1, "deleted_at") != nil)
        let undeleted = try fixture.load([
            LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-03T00:00:00.000Z", deleted: false))
        ])
        #expect(undeleted.counts.updated == 1)
        #expect(try fixture.contact(1, "is_deleted") == "false")
        #expect(try fixture.contact(1, "deleted_at") == nil)
    }

    @Test func hardDeleteRemovesRowsAndNeverInsertsDeletedRecords() throws {
        let fixture = try LoaderFixture()
        fixture.mapping.deletes = .hard
        try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))])
        let summary = try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-02T00:00:00.000Z", deleted: true),
                LoaderFixture.row(2, modstamp: "2024-01-02T00:00:00.000Z", deleted: true))
        ])
        #expect(summary.counts.deleted == 1)
        #expect(summary.counts.inserted == 0)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }

    @Test(arguments: [DeleteMode.soft, .hard, .ignore])
    func fullSweepHandlesRowsSalesforceNoLongerReturns(mode: DeleteMode) throws {
        let fixture = try LoaderFixture()
        fixture.mapping.deletes = mode
        try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"),
                LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z"))
        ], .full, fullSweep: true)
        let summary = try fixture.load(
            [LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))], .full, fullSweep: true,
            allowMassDelete: true)
        switch mode {
        case .soft:
            #expect(summary.counts.deleted == 1)
            #expect(try fixture.contact(2, "is_deleted") == "true")
            #expect(try fixture.contact(2, "deleted_at") != nil)
            #expect(try fixture.contact(1, "is_deleted") == "false")
        case .hard:
            #expect(summary.counts.deleted == 1)
            #expect(try fixture.contact(2, "salesforce_id") == nil)
            #expect(try fixture.contact(1, "salesforce_id") != nil)
        case .ignore:
            #expect(summary.counts.deleted == 0)
            #expect(try fixture.contact(2, "is_deleted") == "false")
        }
        #expect(summary.counts.unchanged == 1)
        #expect(try fixture.value("SELECT last_full_sync_at IS NOT NULL FROM sfpg.sync_state") == "t")
    }

    @Test func inFlightBulkJobIsRecordedBeforeBeginAndClearedByCommit() throws {
        let fixture = try LoaderFixture()
        let store = SyncStore(fixture.connection)
        let summary = try fixture.withRun(.full) { run in
            try store.recordInFlightBulkJob(
                "750000000000009AAA", query: "query SELECT Id FROM Contact", jobName: fixture.jobName,
                objectName: "Contact", table: fixture.mapping.table)
            #expect(try fixture.value("SELECT bulk_job_id FROM sfpg.sync_state") == "750000000000009AAA")
            try run.begin()
            try run.copyPage(1) { try $0.write(LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"))) }
            return try run.commitStaged(salesforceJobId: "750000000000009AAA", apiCalls: 7)
        }
        let state = try fixture.connection.execute(
            "SELECT bulk_job_id, last_full_sync_at IS NOT NULL AS full, last_run_id FROM sfpg.sync_state")
        #expect(state.rows == [[nil, "t", String(summary.runId)]])
        #expect(try fixture.value("SELECT salesforce_job_id FROM sfpg.sync_logs WHERE id = $1", [String(summary.runId)])
            == "750000000000009AAA")
        #expect(try store.state(ofJob: fixture.jobName).inFlightBulkJobId == nil)
    }

    @Test func previewShowsQuotedSQLWithoutValues() throws {
        let fixture = try LoaderFixture()
        try fixture.withRun(.full) { run in
            let preview = run.previewSQL().joined(separator: "\n")
            #expect(preview.contains("CREATE TEMP TABLE pg_temp.\"sfpg_staging\""))
            #expect(preview.contains("\"salesforce_id\" character varying(18)"))
            #expect(preview.contains("ON CONFLICT (\"salesforce_id\")"))
            #expect(preview.contains("FORCE_NULL"))
            #expect(preview.contains("UPDATE \"public\".\"salesforce_contacts\""))
        }
    }
}
