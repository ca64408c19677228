import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing

@Suite("End to end: incremental syncs converge to the org")
struct EndToEndConvergenceTests {
    @Test("contacts (deletes: soft): rounds of churn, incremental runs, then a full run sweeps purged records")
    func contactsConverge() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 800
            $0.defaultPageSize = 300
        }
        let job = try world.job("contacts")
        let runner = try world.runner()
        try world.sync(job, nil, runner: runner)
        var purgedSoFar = Set<String>()

        for round in 1...3 {
            let before = Set(world.emulator.org.ids("Contact", includeDeleted: true))
            world.emulator.org.randomRound(
                "Contact", seed: UInt64(round * 7), inserts: 25, updates: 60, softDeletes: 20, undeletes: 8,
                hardDeletes: 6)
            purgedSoFar.formUnion(before.subtracting(world.emulator.org.ids("Contact", includeDeleted: true)))
            let outcome = try world.sync(job, nil, runner: runner)
            #expect(outcome.plan?.mode == .incremental)
            #expect(outcome.plan?.sweepsMissingKeys == false)
            // Purged records are invisible to an incremental read: they stay as they were; all else matches.
            let differences = try world.differences(job, tolerating: purgedSoFar)
            #expect(differences.isEmpty, "round \(round): \(differences.joined(separator: "\n"))")
            let stale = Set(try world.table(job).keys).subtracting(world.emulator.org.ids("Contact", includeDeleted: true))
            #expect(stale.isSubset(of: purgedSoFar))
        }
        #expect(!purgedSoFar.isEmpty)

        let full = try world.sync(job, .full, runner: runner)
        #expect(full.plan?.sweepsMissingKeys == true)
        let differences = try world.differences(job, tolerating: purgedSoFar)
        #expect(differences.isEmpty, "after full: \(differences.joined(separator: "\n"))")
        // deletes: soft keeps purged rows, marked deleted with a time.
        let purgedInTable = purgedSoFar.intersection(try world.table(job).keys)
        #expect(!purgedInTable.isEmpty)
        let marked = try world.connection.execute(
            "SELECT salesforce_id FROM public.salesforce_contacts WHERE is_deleted AND deleted_at IS NOT NULL")
        let markedIds = Set(marked.rows.compactMap { $0[0] ?? nil })
        #expect(purgedInTable.isSubset(of: markedIds))
        // is_deleted and deleted_at agree on every row (undeletes clear deleted_at).
        #expect(try world.count(
            "SELECT count(*) FROM public.salesforce_contacts WHERE is_deleted <> (deleted_at IS NOT NULL)") == 0)
        // Every row is a record the org has or had.
        #expect(Set(try world.table(job).keys).isSubset(
            of: Set(world.emulator.org.ids("Contact", includeDeleted: true)).union(purgedSoFar)))
    }

    @Test("opportunities (deletes: hard, Account.Name): rounds of churn converge; a full run removes purged rows")
    func opportunitiesConverge() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 1_000
            $0.defaultPageSize = 90
        }
        let job = try world.job("opportunities")
        #expect(job.deletes == .hard)
        let runner = try world.runner()
        try world.sync(job, .full, runner: runner)
        var differences = try world.differences(job)
        #expect(differences.isEmpty, "initial: \(differences.joined(separator: "\n"))")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_opportunities WHERE account_name IS NOT NULL") > 0)

        var purged = Set<String>()
        for round in 1...2 {
            let before = Set(world.emulator.org.ids("Opportunity", includeDeleted: true))
            world.emulator.org.randomRound(
                "Opportunity", seed: UInt64(100 + round), inserts: 15, updates: 30, softDeletes: 12, undeletes: 4,
                hardDeletes: 5)
            purged.formUnion(before.subtracting(world.emulator.org.ids("Opportunity", includeDeleted: true)))
            try world.sync(job, .incremental, runner: runner)
            differences = try world.differences(job, tolerating: purged)
            #expect(differences.isEmpty, "round \(round): \(differences.joined(separator: "\n"))")
            // Soft-deleted opportunities are removed from the table by an incremental run (queryAll sees them).
            #expect(try world.count("SELECT count(*) FROM public.salesforce_opportunities WHERE is_deleted") == 0)
        }
        try world.sync(job, .full, runner: runner)
        differences = try world.differences(job)
        #expect(differences.isEmpty, "after full: \(differences.joined(separator: "\n"))")
        let remaining = Set(try world.table(job).keys)
        #expect(remaining.isDisjoint(with: purged))
    }
    @Test("accounts (numbers, dates, booleans, multi-line text): churn converges incrementally and fully")
    func accountsConverge() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 2_000
            $0.defaultPageSize = 70
        }
        let job = try world.job("accounts")
        let runner = try world.runner()
        try world.sync(job, nil, runner: runner)
        var purged = Set<String>()
        for round in 1...2 {
            let before = Set(world.emulator.org.ids("Account", includeDeleted: true))
            world.emulator.org.randomRound(
                "Account", seed: UInt64(40 + round), inserts: 10, updates: 40, softDeletes: 8, undeletes: 3, hardDeletes: 3)
            purged.formUnion(before.subtracting(world.emulator.org.ids("Account", includeDeleted: true)))
            try world.sync(job, nil, runner: runner)
            let differences = try world.differences(job, tolerating: purged)
            #expect(differences.isEmpty, "round \(round): \(differences.joined(separator: "\n"))")
        }
        try world.sync(job, .full, runner: runner)
        #expect(try world.differences(job, tolerating: purged).isEmpty)
        #expect(try world.count(
            "SELECT count(*) FROM public.salesforce_accounts WHERE salesforce_id = ANY($1::text[]) AND NOT (is_deleted AND deleted_at IS NOT NULL)"
                .replacingOccurrences(of: "$1::text[]", with: "ARRAY['\(purged.joined(separator: "','"))']")) == 0)
    }
}
