import Foundation
import PostgresLoader
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// Every mode of the one run pipeline, for the mode × invariant matrix (``ModeMatrixTests``).
enum RunMode: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case incremental
    case fullStaged = "full (staged)"
    case fullDirect = "full (direct)"
    case split = "split: 4"
    case resplit = "split: 4, a range re-split"
    case shard = "--shard i/4, one shard rerun"
    case backfill = "column backfill"
    case refresh = "formula refresh"

    var testDescription: String { rawValue }

    /// The modes whose run reads the whole object as of its snapshot(s).
    static let full: [RunMode] = [.fullStaged, .fullDirect, .split, .resplit, .shard]
    /// The modes that sweep missing keys (a direct first load has nothing to sweep).
    static let sweeping: [RunMode] = [.fullStaged, .split, .resplit, .shard]
}

/// One world for one matrix cell: the emulator (its clock set two hours back, so that changes stamped "later"
/// still lie behind the database's clock), a migrated database, and a table that a job with or without
/// `Birthdate`, with or without audit, loads.
final class ModeMatrix {
    let world: E2EFixture
    let mode: RunMode
    let audit: Bool
    /// Called with each data job's SOQL once it exists, and how many data jobs the current run created so far.
    var onDataJob: ((String, Int) -> Void)?
    private var shardRuns = 0
    static let table = "matrix_contacts"

    init(_ mode: RunMode, audit: Bool = false, contacts: Int = 200) async throws {
        self.mode = mode
        self.audit = audit
        world = try await E2EFixture {
            $0.contactCount = contacts
            $0.defaultPageSize = 50
        }
        try world.connection.executeScript(
            """
            CREATE TABLE \(Self.table) (salesforce_id varchar(18) PRIMARY KEY, last_name text, email text,
                birthdate date, display_label text, system_modstamp timestamptz NOT NULL,
                is_deleted boolean NOT NULL DEFAULT false, deleted_at timestamptz, synced_at timestamptz DEFAULT now())
            """)
        try world.emulator.advanceClock(seconds: -7200)
    }

    /// The job: `birthdate` maps Birthdate only when asked (a field new to the job); `split: 4` in split modes.
    func job(birthdate: Bool = true) throws -> JobDefinition {
        let split = mode == .split || mode == .resplit ? "split: 4\n" : ""
        return try world.writeJob(
            """
            object: Contact
            table: \(Self.table)
            fields:
              Id: salesforce_id
              LastName: last_name
              Email: email
            \(birthdate ? "  Birthdate: birthdate\n" : "")  Display_Label__c: display_label
              SystemModstamp: system_modstamp
              IsDeleted: is_deleted
            deletes: soft
            overlap: 1s
            refresh_calculated: 24h
            \(audit ? "audit: true\n" : "")\(split)
            """, name: "matrix")
    }

    /// Moves the emulator's clock (its record stamps and job creation dates).
    func advanceClock(seconds: Int) throws {
        try world.emulator.advanceClock(seconds: seconds)
    }

    func runner() throws -> SyncRunner {
        let runner = try world.runner()
        var count = 0
        runner.onBulkJobCreated = { [self] soql in
            guard !soql.contains("LIMIT 1") else { return }
            count += 1
            onDataJob?(soql, count)
        }
        return runner
    }

    /// What comes before the mode's run: a plain full load (none for a direct first load), without Birthdate for
    /// a backfill, with the formula refresh made due for a refresh.
    func prepare(birthdate: Bool = true) throws {
        guard mode != .fullDirect else { return }
        let base = try world.runner().run(try job(birthdate: birthdate && mode != .backfill), options: SyncOptions(mode: .full))
        #expect(base.status == .success, "baseline: \(base.error ?? "")")
    }

    /// The mode's run. Returns every outcome (four shards and a rerun for shard mode).
    @discardableResult
    func run(_ job: JobDefinition? = nil, failingShard: Bool = true) throws -> [JobOutcome] {
        let job = try job ?? self.job()
        switch mode {
        case .incremental, .backfill:
            return [try runner().run(job, options: SyncOptions(mode: .incremental))]
        case .refresh:
            try world.connection.execute("UPDATE sfpg.sync_state SET calculated_refreshed_at = now() - interval '25 hours'")
            return [try runner().run(job, options: SyncOptions(mode: .incremental))]
        case .fullStaged, .fullDirect, .split:
            return [try runner().run(job, options: SyncOptions(mode: .full))]
        case .resplit:
            let runner = try runner()
            runner.beforeSplitJobs = { [world] ranges in world.emulator.faults.failQueries(containing: ranges.condition(3)!, count: 1) }
            return [runner.run(job, options: SyncOptions(mode: .full))]
        case .shard:
            return try runShards(job, failingShard: failingShard)
        }
    }

    /// Four shards of one new logical run, one process each (in-process, in turn); shard 1's first attempt
    /// fails (its Bulk job fails) and is rerun.
    private func runShards(_ job: JobDefinition, failingShard: Bool) throws -> [JobOutcome] {
        shardRuns += 1
        let runner = try runner()
        var outcomes: [JobOutcome] = []
        for index in 0..<4 {
            func shard() -> JobOutcome {
                runner.run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: index, count: 4, runName: "m\(shardRuns)")))
            }
            if index == 1, failingShard {
                world.emulator.faults.failJobs(count: 1, errorMessage: "INVALID_FIELD: injected")
                let failed = shard()
                #expect(failed.status != .success, "shard 1's first attempt was meant to fail")
            }
            outcomes.append(shard())
        }
        return outcomes
    }

    /// The table's loaded content (mapped columns and the deletion flag), for "nothing changed" checks.
    func content() throws -> String {
        try world.value(
            """
            SELECT count(*)::text || ':' || coalesce(md5(string_agg((salesforce_id, last_name, email, birthdate,
                display_label, system_modstamp, is_deleted)::text, '|' ORDER BY salesforce_id)), '-')
            FROM \(Self.table)
            """) ?? ""
    }

    func watermark() throws -> String? {
        try world.value("SELECT watermark::text FROM sfpg.sync_state WHERE job_name = 'matrix'")
    }

    func column(_ column: String, of id: String) throws -> String? {
        try world.value("SELECT \(column)::text FROM \(Self.table) WHERE salesforce_id = $1", [id])
    }

    /// The org's live Contact Ids in Id order.
    var ids: [String] { world.emulator.org.ids("Contact", includeDeleted: false).sorted() }

    /// Rows of the table that differ from the org for the job's fields (soft-deleted records included).
    func differences(_ job: JobDefinition) throws -> [String] {
        TestSyncTables.differences(expected: world.truth(job), actual: try world.typedTable(job), fields: job.fields.map(\.source))
    }
}
