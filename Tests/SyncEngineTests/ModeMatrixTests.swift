import Foundation
import PostgresLoader
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// Every mode of the run pipeline held to every invariant it owes, end to end against the emulator: one test per
/// invariant, one case per mode. A mode that does not owe an invariant (an incremental run sweeps nothing) is held
/// to what it owes instead (it deletes nothing).
@Suite("Run pipeline: mode × invariant", .serialized, .timeLimit(.minutes(4)))
struct ModeMatrixTests {
    /// The proof: a run whose pages deliver fewer records than Salesforce counted commits nothing, whatever the
    /// mode (a shard's failure leaves its logical run incomplete).
    @Test(arguments: RunMode.allCases)
    func completenessProof(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode)
        try matrix.prepare()
        let watermark = try matrix.watermark()
        let successes = try matrix.world.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'success'")
        // Something a complete run would write, in every mode: a newer version, a formula value.
        let id = matrix.ids[5]
        matrix.world.emulator.org.update("Contact", id: id, fields: ["Email": "proof@example.com"])
        matrix.world.emulator.org.setCalculated("Contact", id: matrix.ids[6], field: "Display_Label__c", value: "Proof")
        let before = try matrix.content()
        var armed = false
        matrix.onDataJob = { soql, _ in
            // The pass under test: a column pass's query names no other field; shard mode's first shard.
            let columnPass = soql.hasPrefix("SELECT Id, SystemModstamp, ") && !soql.contains("LastName")
            guard !armed, (mode == .backfill || mode == .refresh) == columnPass else { return }
            armed = true
            matrix.world.emulator.faults.shortTotal(jobs: 1)
        }
        let outcomes = try matrix.run(failingShard: false)
        #expect(armed)
        #expect(outcomes.contains { $0.status != .success }, "\(outcomes.map(\.status))")
        #expect(try matrix.watermark() == watermark || mode.isColumnPass)
        if mode == .shard {
            #expect(try matrix.world.count("SELECT count(*) FROM sfpg.sync_logs WHERE status = 'success'") == successes)
        } else if mode.isColumnPass {
            #expect(try matrix.column("display_label", of: matrix.ids[6]) != "Proof")
            // Nothing records the pass as done: the next run tries it again.
            #expect(try matrix.world.value("SELECT 'Birthdate' = ANY(synced_fields) FROM sfpg.sync_state") == (mode == .backfill ? "f" : "t"))
            if mode == .refresh {
                #expect(try matrix.world.value("SELECT calculated_refreshed_at < now() - interval '1 hour' FROM sfpg.sync_state") == "t")
            }
        } else {
            #expect(try matrix.content() == before)
        }
    }

    /// The watermark rule: a change made after one Bulk job's snapshot (while the run's other jobs are still
    /// created) is read by the next incremental run, in every mode; and the watermark never passes it.
    @Test(arguments: RunMode.allCases)
    func watermarkRule(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode)
        try matrix.prepare()
        let early = matrix.ids.first!
        let late = matrix.ids.last!
        // The run's first data job exists: change a record it has already read (the lowest Id, range 0), an hour
        // later by Salesforce's clock; then, ten minutes later, one that a later job reads (the highest Id).
        let lateJob = mode == .split || mode == .shard ? 3 : mode == .resplit ? 4 : 0
        matrix.onDataJob = { _, count in
            if count == 1 {
                try? matrix.advanceClock(seconds: 3600)
                matrix.world.emulator.org.update("Contact", id: early, fields: ["Email": "early@example.com"])
            }
            if count == lateJob {
                try? matrix.advanceClock(seconds: 600)
                matrix.world.emulator.org.update("Contact", id: late, fields: ["Email": "late@example.com"])
            }
        }
        let outcomes = try matrix.run(failingShard: false)
        #expect(outcomes.allSatisfy { $0.status == .success }, "\(outcomes.compactMap(\.error))")
        matrix.onDataJob = nil
        let next = try matrix.world.runner().run(try matrix.job(), options: SyncOptions(mode: .incremental))
        #expect(next.status == .success, "\(next.error ?? "")")
        #expect(try matrix.column("email", of: early) == "early@example.com")
        if lateJob > 0 { #expect(try matrix.column("email", of: late) == "late@example.com") }
    }

    /// A field new to the job is filled in every row by the mode's run (a full run writes every mapped column of
    /// every row; an incremental run backfills it).
    @Test(arguments: RunMode.allCases)
    func newFieldIsFilled(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode)
        try matrix.prepare(birthdate: false)
        let job = try matrix.job(birthdate: true)
        let outcomes = try matrix.run(job)
        #expect(outcomes.allSatisfy { $0.status == .success }, "\(outcomes.compactMap(\.error))")
        let differences = try matrix.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(3))")
        #expect(try matrix.world.value("SELECT count(*) FROM \(ModeMatrix.table) WHERE birthdate IS NOT NULL") != "0")
        // What was recorded as loaded is what the table holds: the next incremental backfills nothing.
        let creations = matrix.world.jobCreations.count
        #expect(try matrix.world.runner().run(job, options: SyncOptions(mode: .incremental)).status == .success)
        #expect(matrix.world.jobCreations.count == creations + 1)
    }

    /// A formula whose value moved without a SystemModstamp change is current after a full run or a due refresh.
    @Test(arguments: RunMode.full + [.refresh])
    func formulaIsRefreshed(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode)
        try matrix.prepare()
        let id = matrix.ids[10]
        matrix.world.emulator.org.setCalculated("Contact", id: id, field: "Display_Label__c", value: "Recomputed")
        let outcomes = try matrix.run()
        #expect(outcomes.last?.status == .success, "\(outcomes.compactMap(\.error))")
        #expect(try matrix.column("display_label", of: id) == "Recomputed")
        let differences = try matrix.differences(try matrix.job())
        #expect(differences.isEmpty, "\(differences.prefix(3))")
    }

    /// The sweep: keys a full snapshot no longer holds are marked deleted, only within the run's scope and within
    /// max_sweep; modes that read no full snapshot delete nothing.
    @Test(arguments: RunMode.allCases)
    func sweepIsScopedAndBounded(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode)
        try matrix.prepare()
        let gone = matrix.ids[20]
        matrix.world.emulator.org.hardDelete("Contact", id: gone)
        let outcomes = try matrix.run()
        #expect(outcomes.last?.status == .success, "\(outcomes.compactMap(\.error))")
        let swept = try matrix.column("is_deleted", of: gone)
        if RunMode.sweeping.contains(mode) {
            #expect(swept == "true")
        } else if mode == .fullDirect {
            #expect(swept == nil, "a first load never had it")
        } else {
            #expect(swept == "false", "\(mode) reads no full snapshot and must not judge deletes")
        }
        guard RunMode.sweeping.contains(mode) else { return }
        // Past the bound (10% of the live rows) the run is refused and changes nothing.
        for id in matrix.ids.prefix(30) { matrix.world.emulator.org.hardDelete("Contact", id: id) }
        let before = try matrix.content()
        let refused = try matrix.run()
        #expect(refused.contains { $0.error?.contains("max_sweep") == true }, "\(refused.compactMap(\.error))")
        if mode != .shard { #expect(try matrix.content() == before) }
        #expect(try matrix.column("is_deleted", of: matrix.ids[0]) == "false")
    }

    /// A shard sweeps only its own range: a row in another shard's range that Salesforce does not have survives
    /// the shard's commit until that shard runs.
    @Test func aShardSweepsOnlyItsRange() async throws {
        let matrix = try await ModeMatrix(.shard)
        try matrix.prepare()
        let job = try matrix.job()
        let stray = String(matrix.ids.last!.prefix(14)) + "z"
        try matrix.world.connection.execute(
            "INSERT INTO \(ModeMatrix.table) (salesforce_id, last_name, system_modstamp) VALUES ($1, 'Stray', now())", [stray])
        let runner = try matrix.world.runner()
        for index in 0..<3 {
            let outcome = runner.run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: index, count: 4, runName: "scope")))
            #expect(outcome.status == .success, "\(outcome.error ?? "")")
            #expect(try matrix.column("is_deleted", of: stray) == "false", "shard \(index) swept outside its range")
        }
        let last = runner.run(job, options: SyncOptions(mode: .full, shard: ShardSpec(index: 3, count: 4, runName: "scope")))
        #expect(last.status == .success, "\(last.error ?? "")")
        #expect(try matrix.column("is_deleted", of: stray) == "true")
    }

    /// Revive: a record that vanished (hidden from the integration user) and was swept comes back live when a
    /// full snapshot holds it again, whatever its old SystemModstamp.
    @Test(arguments: RunMode.sweeping)
    func sweptRecordRevives(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode)
        try matrix.prepare()
        let hidden = matrix.ids[15]
        matrix.world.emulator.org.hide("Contact", ids: [hidden])
        #expect(try matrix.run().last?.status == .success)
        #expect(try matrix.column("is_deleted", of: hidden) == "true")
        matrix.world.emulator.org.unhide("Contact", ids: [hidden])
        let outcomes = try matrix.run()
        #expect(outcomes.last?.status == .success, "\(outcomes.compactMap(\.error))")
        #expect(try matrix.column("is_deleted", of: hidden) == "false")
        #expect(try matrix.world.value("SELECT deleted_at FROM \(ModeMatrix.table) WHERE salesforce_id = $1", [hidden]) == nil)
    }

    /// Audit: every row a mode writes leaves its change in sfpg.changes, with the old and new values.
    @Test(arguments: RunMode.allCases)
    func auditRowsRecordWhatChanged(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode, audit: true)
        try matrix.prepare(birthdate: mode != .backfill)
        // A record whose Birthdate is set, so that a backfill changes it too.
        let withBirthdate = matrix.world.emulator.org.truth("Contact", fields: ["Id", "Birthdate"], includeDeleted: false)
            .filter { $0[1] != nil }.compactMap { $0[0] }.sorted()
        let id = withBirthdate[3]
        let (column, change): (String, () -> Void)
        switch mode {
        case .backfill:
            column = "birthdate"
            change = {}
        case .refresh:
            column = "display_label"
            change = { matrix.world.emulator.org.setCalculated("Contact", id: id, field: "Display_Label__c", value: "Audited") }
        default:
            column = "email"
            change = { matrix.world.emulator.org.update("Contact", id: id, fields: ["Email": "audited@example.com"]) }
        }
        change()
        let outcomes = try matrix.run()
        #expect(outcomes.last?.status == .success, "\(outcomes.compactMap(\.error))")
        let expected = try matrix.column(column, of: id)
        let operation = mode == .fullDirect ? "insert" : "update"
        let audited = try matrix.world.connection.execute(
            "SELECT changes -> $2 ->> 'new' FROM sfpg.changes WHERE record_key = $1 AND operation = $3 ORDER BY id DESC LIMIT 1",
            [id, column, operation])
        #expect(audited.rows.first?.first == expected, "\(audited.rows)")
    }

    /// The deletes check (issue 18): a mode that runs incrementally learns of a record deleted for good since the
    /// last check (getDeleted), marks it and leaves its delete in sfpg.changes.
    @Test(arguments: [RunMode.incremental, .backfill, .refresh])
    func deletesCheckIsAudited(mode: RunMode) async throws {
        let matrix = try await ModeMatrix(mode, audit: true)
        try matrix.prepare()
        let gone = matrix.ids[25]
        try matrix.advanceClock(seconds: 120)
        matrix.world.emulator.org.hardDelete("Contact", id: gone)
        // getDeleted answers in whole minutes: a deletion in the run's own minute is the next run's.
        try matrix.advanceClock(seconds: 61)
        let outcomes = try matrix.run()
        #expect(outcomes.last?.status == .success, "\(outcomes.compactMap(\.error))")
        #expect(try matrix.column("is_deleted", of: gone) == "true")
        let audited = try matrix.world.connection.execute(
            "SELECT changes -> 'is_deleted' ->> 'new' FROM sfpg.changes WHERE record_key = $1 AND operation = 'delete'", [gone])
        #expect(audited.rows == [["true"]], "\(audited.rows)")
    }
}

extension RunMode {
    var isColumnPass: Bool { self == .backfill || self == .refresh }
}
