import Foundation
import PlainHTTP
import PostgresLoader
import SyncEngine
import Testing
import TestSupport

/// `sfpg serve` streaming a `stream: true` job end to end: the emulator's Pub/Sub API, the `sfpg` binary's stream
/// service, the applier and a real database. The table must equal the org once the stream drains, whatever
/// happened in between (kills, gaps, overflows, drops, an expired replay id).
@Suite("sfpg serve: change events stream into the table", .serialized, .timeLimit(.minutes(6)))
struct StreamServeTests {
    static func world(contacts: Int = 300) async throws -> (E2EFixture, String) {
        let world = try await E2EFixture {
            $0.contactCount = contacts
            $0.pubSubPort = 0
            $0.pubSubKeepalive = .milliseconds(200)
        }
        let jobs = try ApiBudgetTests.jobsDirectory("stream: true")
        return (world, jobs)
    }

    /// Waits until the table equals the org field by field.
    static func converges(_ world: E2EFixture, _ server: ServeTests.Server, timeout: Duration = .seconds(60)) throws {
        let job = try world.job("contacts")
        var last: [String] = []
        let equal = E2EFixture.waitUntil(timeout: timeout) {
            last = (try? world.differences(job)) ?? ["table not readable"]
            return last.isEmpty
        }
        #expect(equal, "\(last.prefix(5)) \(server.process.standardError.suffix(3000))")
    }

    /// Mixed creates, updates, deletes and undeletes at `perSecond` for `seconds`, from the emulator's driver.
    static func drive(_ world: E2EFixture, perSecond: Int, seconds: Double, seed: Int) throws {
        _ = try world.emulator.admin(
            "POST", "pubsub/drive", json: #"{"object":"Contact","perSecond":\#(perSecond),"seconds":\#(seconds),"seed":\#(seed)}"#)
    }

    static func driveDone(_ world: E2EFixture) -> Bool {
        E2EFixture.waitUntil(timeout: .seconds(60)) {
            let status = (try? world.emulator.admin("GET", "pubsub/drive")) ?? ""
            return status.contains(#""running":false"#) || status.contains(#""running" : false"#)
        }
    }

    @Test("creates, updates, deletes and undeletes reach the table through the stream; /ready and /metrics show it")
    func streamsChanges() async throws {
        let (world, jobs) = try await Self.world()
        let server = try ServeTests.Server(world, jobs: jobs)
        #expect(server.ready(), "\(server.process.standardError)")
        let org = world.emulator.org
        let ids = org.ids("Contact", includeDeleted: false)
        org.update("Contact", id: ids[0], fields: ["Title": "Streamed", "Phone": nil])
        org.softDelete("Contact", id: ids[1])
        let added = org.insert("Contact", fields: ["LastName": "Stream Ünïcødé", "FirstName": "New"])
        try Self.converges(world, server)
        org.undelete("Contact", id: ids[1])
        try Self.drive(world, perSecond: 100, seconds: 2, seed: 3)
        #expect(Self.driveDone(world))
        try Self.converges(world, server)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE salesforce_id = '\(added)'") == 1)
        let metrics = try server.get("/metrics").body
        #expect(metrics.contains(#"sfpg_stream_events_applied_total{sfpg_job="contacts"}"#), "\(metrics)")
        // Quiet now: a keepalive's position is Salesforce's latest, so the stored position's age drops to 0, while
        // the lag still tells the last event's.
        var latest = metrics
        let current = E2EFixture.waitUntil(timeout: .seconds(10)) {
            latest = (try? server.get("/metrics").body) ?? ""
            return latest.contains(#"sfpg_stream_replay_position_age_seconds{sfpg_job="contacts"} 0"# + "\n")
        }
        #expect(current, "\(latest)")
        #expect(!latest.contains(#"sfpg_stream_lag_seconds{sfpg_job="contacts"} 0"# + "\n"), "\(latest)")
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_state WHERE stream_replay_id IS NOT NULL") == 1)
        #expect(server.stop() == 0, "\(server.process.standardError)")
    }

    @Test("exactly once: sfpg serve SIGKILLed at random moments of a mixed stream, restarted, ends equal to the org")
    func killedAtRandomMoments() async throws {
        let (world, jobs) = try await Self.world()
        let kills = Int(ProcessInfo.processInfo.environment["SFPG_STREAM_KILLS"] ?? "") ?? 5
        var generator = SystemRandomNumberGenerator()
        var server = try ServeTests.Server(world, jobs: jobs)
        #expect(server.ready(), "\(server.process.standardError)")
        for round in 0..<kills {
            try Self.drive(world, perSecond: 100, seconds: 1.5, seed: 100 + round)
            usleep(UInt32.random(in: 50_000...1_400_000, using: &generator))
            server.process.send(SIGKILL)
            _ = server.process.wait(timeout: .seconds(10))
            #expect(Self.driveDone(world))
            server = try ServeTests.Server(world, jobs: jobs)
        }
        try Self.converges(world, server)
        // Each applied event wrote its audit row once: no change was applied twice (a replayed event is skipped).
        #expect(server.stop() == 0, "\(server.process.standardError)")
    }

    @Test("a gap, an overflow, a dropped stream and an expired replay id each end with the table equal to the org", arguments: [
        #"{"kind":"gap","object":"Contact","count":2}"#, #"{"kind":"overflow","object":"Contact","count":3}"#,
        #"{"kind":"dropStream","afterEvents":3}"#, "expire",
    ])
    func faults(_ fault: String) async throws {
        let (world, jobs) = try await Self.world()
        var server = try ServeTests.Server(world, jobs: jobs)
        #expect(server.ready(), "\(server.process.standardError)")
        try Self.drive(world, perSecond: 50, seconds: 0.5, seed: 1)
        #expect(Self.driveDone(world))
        try Self.converges(world, server)
        if fault == "expire" {
            // Stopped, its replay id ages past the retention window while the org changes.
            #expect(server.stop() == 0)
            try Self.drive(world, perSecond: 50, seconds: 0.5, seed: 2)
            #expect(Self.driveDone(world))
            _ = try world.emulator.admin("POST", "pubsub/faults", json: #"{"kind":"expireReplayIds"}"#)
            server = try ServeTests.Server(world, jobs: jobs)
        } else {
            _ = try world.emulator.admin("POST", "pubsub/faults", json: fault)
        }
        try Self.drive(world, perSecond: 50, seconds: 1, seed: 2)
        #expect(Self.driveDone(world))
        try Self.converges(world, server)
        #expect(server.stop() == 0, "\(server.process.standardError)")
    }
}
