import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing

/// A whole `sfpg run` through the real client, counted by the emulator's TCP accepts: connections are kept per
/// thread, not opened per request, and a page cut mid-transfer is fetched again on a new one.
@Suite("End to end: connection reuse", .timeLimit(.minutes(3)))
struct ConnectionReuseE2ETests {
    private static let workers = 4

    private func world(tls: Bool) async throws -> E2EFixture {
        try await E2EFixture {
            $0.contactCount = 3_000
            $0.defaultPageSize = 100
            $0.tls = tls
        }
    }

    private func runner(_ world: E2EFixture) throws -> SyncRunner {
        var environment = world.environment
        if let ca = world.emulator.caCertificatePath { environment["SF_CA_BUNDLE"] = ca }
        return try world.runner(environment: environment)
    }

    @Test("a full sync of 30 pages opens about one connection per thread", arguments: [false, true])
    func fullSyncKeepsConnections(tls: Bool) async throws {
        let world = try await world(tls: tls)
        let job = try world.job("contacts")
        let before = world.emulator.acceptedConnections
        let outcome = try runner(world).run(
            job, options: SyncOptions(mode: .full, downloadConnections: Self.workers))
        #expect(outcome.status == .success, "\(outcome.error ?? "")")

        let requests = world.emulator.requests
        let pages = requests.filter { $0.path.hasSuffix("/results") }.count
        #expect(pages == 30)
        let opened = world.emulator.acceptedConnections - before
        // Before reuse every request had its own (here about 40); now the run's thread keeps one for token,
        // describe, job, polls and the listing's first answer, the listing thread one for the rest of the listing,
        // and each download worker one for its pages.
        #expect(opened <= Self.workers + 2, "\(opened) connections for \(requests.count) requests")
        let others = requests.filter { !$0.path.hasSuffix("/results") && !$0.path.hasSuffix("/resultPages") }
        #expect(Set(others.map(\.connection)).count == 1)
        #expect(Set(requests.filter { $0.path.hasSuffix("/resultPages") }.map(\.connection)).count <= 2)
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(5).joined(separator: "\n"))")
    }

    @Test("pages cut mid-transfer are fetched again on new connections and the table is exact")
    func cutPagesAreRefetchedOnNewConnections() async throws {
        let world = try await world(tls: true)
        let job = try world.job("contacts")
        world.emulator.faults.resetConnectionMidBody(count: 3)
        let outcome = try runner(world).run(
            job, options: SyncOptions(mode: .full, downloadConnections: Self.workers))
        #expect(outcome.status == .success, "\(outcome.error ?? "")")

        let requests = world.emulator.requests
        let pages = requests.filter { $0.path.hasSuffix("/results") }
        #expect(pages.count == 33)
        // Every repeated page went out on a connection no earlier request had used.
        for (index, page) in requests.enumerated() where page.path.hasSuffix("/results") {
            let earlier = requests[..<index]
            guard earlier.contains(where: { $0.path == page.path && $0.query == page.query }) else { continue }
            #expect(!earlier.contains { $0.connection == page.connection })
        }
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.prefix(5).joined(separator: "\n"))")
    }
}
