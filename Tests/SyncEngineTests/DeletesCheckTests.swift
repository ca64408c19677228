import Foundation
import PostgresLoader
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// Hard deletes between full syncs (issue 18): an incremental run asks getDeleted for what was deleted since the
/// last check, or, when getDeleted cannot answer (window expired, deletions purged, object not replicateable),
/// sweeps keys against a Bulk query of `Id` only, under max_sweep. End to end, against the emulator.
@Suite("Deletes check: hard deletes reach the table between full syncs", .serialized, .timeLimit(.minutes(4)))
struct DeletesCheckTests {
    static let table = "deletes_contacts"

    /// A world whose emulator clock starts two hours back (changes stamped "later" stay behind the database's
    /// clock), a table, and a job loading it with `deletes` soft or hard.
    static func world(_ configure: @escaping (inout EmulatorConfiguration) -> Void = { _ in }) async throws -> E2EFixture {
        let world = try await E2EFixture {
            $0.contactCount = 200
            $0.defaultPageSize = 100
            configure(&$0)
        }
        try world.connection.executeScript(
            """
            CREATE TABLE \(table) (salesforce_id varchar(18) PRIMARY KEY, last_name text,
                system_modstamp timestamptz NOT NULL, is_deleted boolean NOT NULL DEFAULT false, deleted_at timestamptz)
            """)
        try world.emulator.advanceClock(seconds: -7200)
        return world
    }

    static func job(_ world: E2EFixture, deletes: DeleteMode, extra: String = "") throws -> JobDefinition {
        try world.writeJob(
            """
            object: Contact
            table: \(table)
            fields:
              Id: salesforce_id
              LastName: last_name
              SystemModstamp: system_modstamp
              IsDeleted: is_deleted
            deletes: \(deletes.rawValue)
            overlap: 1s
            \(extra)
            """, name: "deletes")
    }

    /// The row of `id`: nil when absent, else its is_deleted flag.
    static func flag(_ world: E2EFixture, _ id: String) throws -> String? {
        try world.value("SELECT is_deleted::text FROM \(table) WHERE salesforce_id = $1", [id])
    }

    /// A full run, then, two minutes later by Salesforce's clock, `change`, and a minute later an incremental run
    /// (getDeleted answers in whole minutes: a deletion in the run's own minute is the next run's).
    static func fullThenIncremental(
        _ world: E2EFixture, _ job: JobDefinition, advance: Int = 120, _ change: () throws -> Void
    ) throws -> JobOutcome {
        try world.sync(job, .full)
        try world.emulator.advanceClock(seconds: advance)
        try change()
        try world.emulator.advanceClock(seconds: 61)
        return try world.runner().run(job, options: SyncOptions(mode: .incremental))
    }

    /// A full run, then `delete` of one record and an incremental run, which must succeed with the record marked
    /// (soft) or gone (hard) and counted in the run's `deleted` figure.
    static func deleteOne(
        _ deletes: DeleteMode, index: Int, advance: Int = 120,
        configure: @escaping (inout EmulatorConfiguration) -> Void = { _ in }, _ delete: (E2EFixture, String) -> Void
    ) async throws -> (world: E2EFixture, job: JobDefinition, gone: String) {
        let world = try await Self.world(configure)
        let job = try Self.job(world, deletes: deletes)
        let gone = world.emulator.org.ids("Contact", includeDeleted: false)[index]
        let outcome = try Self.fullThenIncremental(world, job, advance: advance) { delete(world, gone) }
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        #expect(try Self.flag(world, gone) == (deletes == .soft ? "true" : nil))
        #expect(outcome.summary?.counts.deleted == 1)
        return (world, job, gone)
    }

    static func getDeletedCalls(_ world: E2EFixture) -> Int {
        world.emulator.requests.filter { $0.path.contains("/deleted/") }.count
    }

    static func keySweeps(_ world: E2EFixture) -> Int {
        world.submittedSOQL.filter { $0.hasPrefix("SELECT Id FROM Contact") && !$0.contains("LIMIT") }.count
    }

    @Test("a record hard-deleted between two incremental runs is marked (soft) or gone (hard), through getDeleted",
          arguments: [DeleteMode.soft, .hard])
    func getDeletedBringsHardDeletes(deletes: DeleteMode) async throws {
        let (world, job, gone) = try await Self.deleteOne(deletes, index: 7) { $0.emulator.org.hardDelete("Contact", id: $1) }
        #expect(Self.getDeletedCalls(world) == 1)
        #expect(Self.keySweeps(world) == 0)
        // The position moved to getDeleted's latestDateCovered: the next run starts there and finds nothing new.
        let position = try world.value("SELECT deletes_covered_until::text FROM sfpg.sync_state WHERE job_name = 'deletes'")
        #expect(position != nil)
        try world.emulator.advanceClock(seconds: 120)
        let next = try world.runner().run(job, options: SyncOptions(mode: .incremental))
        #expect(next.status == .success && next.summary?.counts.deleted == 0, "\(next.error ?? "")")
        #expect(try world.value("SELECT deletes_covered_until::text FROM sfpg.sync_state WHERE job_name = 'deletes'") != position)
        if deletes == .soft {
            #expect(try world.value("SELECT deleted_at IS NOT NULL FROM \(Self.table) WHERE salesforce_id = $1", [gone]) == "t")
        }
    }

    @Test("more deletions than getDeleted's id limit: the window is halved until each half answers")
    func idLimitSplitsTheWindow() async throws {
        let world = try await Self.world { $0.replicationIdLimit = 1 }
        let job = try Self.job(world, deletes: .hard)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        let outcome = try Self.fullThenIncremental(world, job) {
            world.emulator.org.hardDelete("Contact", id: ids[1])
            try world.emulator.advanceClock(seconds: 120)
            world.emulator.org.hardDelete("Contact", id: ids[2])
        }
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        #expect(outcome.summary?.counts.deleted == 2)
        #expect(try Self.flag(world, ids[1]) == nil && Self.flag(world, ids[2]) == nil)
        #expect(Self.getDeletedCalls(world) >= 3, "the whole window (EXCEEDED_ID_LIMIT), then halves")
        #expect(Self.keySweeps(world) == 0)
    }

    @Test("deleted, then purged from the recycle bin: getDeleted has lost it, a key sweep finds it")
    func purgedRecycleBinFallsBackToKeySweep() async throws {
        let (world, job, gone) = try await Self.deleteOne(.soft, index: 11) { world, gone in
            world.emulator.org.softDelete("Contact", id: gone)
            world.emulator.org.purgeRecycleBin("Contact")
        }
        #expect(Self.keySweeps(world) == 1)
        #expect(try world.differences(job, tolerating: [gone]).isEmpty)
    }

    @Test("the stored position is older than getDeleted's 15 days: a key sweep, without asking getDeleted",
          arguments: [DeleteMode.soft, .hard])
    func expiredWindowFallsBackToKeySweep(deletes: DeleteMode) async throws {
        let (world, _, _) = try await Self.deleteOne(deletes, index: 3, advance: 16 * 86_400) {
            $0.emulator.org.hardDelete("Contact", id: $1)
        }
        #expect(Self.getDeletedCalls(world) == 0)
        #expect(Self.keySweeps(world) == 1)
        // Bulk jobs of the run, the key sweep's included, are deleted once committed.
        #expect(try world.value("SELECT bulk_job_id FROM sfpg.sync_state WHERE job_name = 'deletes'") == nil)
    }

    @Test("an object that is not replicateable (describe, getDeleted refused) is checked with a key sweep")
    func notReplicateableUsesKeySweep() async throws {
        let (world, _, _) = try await Self.deleteOne(.hard, index: 5, configure: { $0.nonReplicateableObjects = ["Contact"] }) {
            $0.emulator.org.hardDelete("Contact", id: $1)
        }
        #expect(Self.getDeletedCalls(world) == 0)
        #expect(Self.keySweeps(world) == 1)
        #expect(try world.count("SELECT count(*) FROM \(Self.table)") == 199)
    }

    @Test("a key sweep past max_sweep is refused: nothing committed, the position kept; --allow-mass-delete passes")
    func keySweepIsBounded() async throws {
        let world = try await Self.world()
        let job = try Self.job(world, deletes: .soft)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        try world.sync(job, .full)
        let position = try world.value("SELECT deletes_covered_until::text FROM sfpg.sync_state WHERE job_name = 'deletes'")
        #expect(position != nil, "a full run's snapshot is the first position")
        try world.emulator.advanceClock(seconds: 16 * 86_400)
        // 30 of 200 live rows: more than max_sweep's 10%, as after a sharing change that hides records.
        for id in ids.prefix(30) { world.emulator.org.hardDelete("Contact", id: id) }
        let refused = try world.runner().run(job, options: SyncOptions(mode: .incremental))
        #expect(refused.status != .success)
        #expect(refused.error?.contains("key sweep") == true && refused.error?.contains("max_sweep") == true, "\(refused.error ?? "")")
        #expect(try world.count("SELECT count(*) FROM \(Self.table) WHERE is_deleted") == 0)
        #expect(try world.value("SELECT deletes_covered_until::text FROM sfpg.sync_state WHERE job_name = 'deletes'") == position)
        let allowed = try world.runner().run(job, options: SyncOptions(mode: .incremental, allowMassDelete: true))
        #expect(allowed.status == .success, "\(allowed.error ?? "")")
        #expect(try world.count("SELECT count(*) FROM \(Self.table) WHERE is_deleted") == 30)
    }

    @Test("deletes_check: off asks nothing; a cadence skips checks until it has passed")
    func cadence() async throws {
        let world = try await Self.world()
        let off = try Self.job(world, deletes: .hard, extra: "deletes_check: off")
        let gone = world.emulator.org.ids("Contact", includeDeleted: false)[9]
        let outcome = try Self.fullThenIncremental(world, off) { world.emulator.org.hardDelete("Contact", id: gone) }
        #expect(outcome.status == .success, "\(outcome.error ?? "")")
        #expect(try Self.flag(world, gone) == "false")
        #expect(Self.getDeletedCalls(world) == 0)
        let hourly = try Self.job(world, deletes: .hard, extra: "deletes_check: 1h")
        try world.sync(hourly, .incremental)
        #expect(Self.getDeletedCalls(world) == 0, "two minutes since the full run's snapshot: not due")
        try world.emulator.advanceClock(seconds: 3600)
        try world.sync(hourly, .incremental)
        #expect(Self.getDeletedCalls(world) == 1)
        #expect(try Self.flag(world, gone) == nil)
        #expect(throws: JobDefinitionError.self) { try Self.job(world, deletes: .hard, extra: "deletes_check: sometimes") }
    }
}
