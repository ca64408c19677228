import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing

@Suite("End to end: parallel result download")
struct ParallelSyncTests {
    @Test("four connections and the sequential chain load the same table, the first load by plain insert")
    func parallelAndSequentialGiveTheSameTable() async throws {
        let world = try await E2EFixture {
            $0.contactCount = 2_000
            $0.defaultPageSize = 300
        }
        let job = try world.job("contacts")
        let parallel = try world.runner().run(job, options: SyncOptions(mode: .full, downloadConnections: 4))
        #expect(parallel.status == .success, "\(parallel.error ?? "")")
        #expect(parallel.summary?.intoEmptyTable == true)
        #expect(parallel.summary?.counts.inserted == 2_000)
        // The pages came from the resultPages listing, each link fetched once.
        #expect(world.emulator.requests.contains { $0.path.hasSuffix("/resultPages") })
        #expect(world.emulator.requests.filter { $0.path.hasSuffix("/results") }.count == 7)
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(5).joined(separator: "\n"))")
        let afterParallel = try world.table(job)

        try world.connection.execute("TRUNCATE public.salesforce_contacts")
        let sequential = try world.runner().run(job, options: SyncOptions(mode: .full, downloadConnections: 1))
        #expect(sequential.status == .success, "\(sequential.error ?? "")")
        #expect(sequential.summary?.intoEmptyTable == true)
        #expect(try world.table(job) == afterParallel)

        // A third run finds the rows already there: the upsert path, nothing changed.
        let again = try world.runner().run(job, options: SyncOptions(mode: .full, downloadConnections: 4))
        #expect(again.summary?.intoEmptyTable == false)
        #expect(again.summary?.counts.inserted == 0)
        #expect(again.summary?.counts.updated == 0)
    }
}
