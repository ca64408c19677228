import Avro
import Foundation
import PubSubClient
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// The Pub/Sub wire end to end: the client's subscriber against the emulator's Pub/Sub server over real gRPC on
/// loopback, with the emulator's data mutated in process and faults armed through its admin API.
@Suite("Pub/Sub: change events over gRPC")
struct PubSubStreamTests {
    /// An emulator with a Pub/Sub port, a subscriber and the session's call metadata.
    struct World {
        let emulator: TestEmulator
        let subscriber: PubSubSubscriber
        let auth: PubSubAuthentication

        init() async throws {
            emulator = try await TestEmulator.start {
                $0.contactCount = 20
                $0.pubSubPort = 0
                $0.pubSubKeepalive = .milliseconds(100)
            }
            auth = try SalesforceClient(configuration: try .fromEnvironment(emulator.environment)).pubSubAuthentication()
            subscriber = try PubSubSubscriber(
                endpoint: PubSubEndpoint(host: "127.0.0.1", port: try #require(emulator.pubSubPort), tls: false))
        }

        func close() async {
            await subscriber.close()
            try? await emulator.shutdown()
        }

        /// A subscription that is live: its first keepalive came, so LATEST has been placed.
        func live(_ start: ReplayStart = .latest, batch: Int = 100) async throws
            -> PubSubSubscription.Iterator
        {
            var items = subscriber.subscribe(to: "/data/ContactChangeEvent", from: start, auth: auth, batchSize: batch)
                .makeAsyncIterator()
            while case .event = try await items.next() {}
            return items
        }
    }

    /// The next `count` events, skipping keepalives; fails after 10 s.
    static func events(_ count: Int, from items: inout PubSubSubscription.Iterator) async throws -> [ChangeEvent] {
        var found: [ChangeEvent] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while found.count < count, ContinuousClock.now < deadline, let item = try await items.next() {
            if case .event(let event) = item { found.append(event) }
        }
        return found
    }

    @Test("CREATE, UPDATE, DELETE, UNDELETE arrive decoded: nested compound fields, nulledFields, 64-bit commitNumber")
    func lifecycle() async throws {
        let world = try await World()
        var items = try await world.live()
        let org = world.emulator.org
        let id = org.insert("Contact", fields: ["LastName": "Ölçer", "FirstName": "Zoë", "MailingCity": "Zürich", "Email": "z@example.com"])
        org.update("Contact", id: id, fields: ["MailingCity": "Bern", "Email": nil])
        org.softDelete("Contact", id: id)
        org.undelete("Contact", id: id)
        let events = try await Self.events(4, from: &items)
        await world.close()
        try #require(events.count == 4)
        #expect(events.map(\.changeType) == [.create, .update, .delete, .undelete])
        #expect(events.allSatisfy { $0.entityName == "Contact" && $0.recordIds == [id] })
        let create = events[0], update = events[1]
        #expect(create.fields["Name"]?["FirstName"] == .string("Zoë") && create.fields["Name"]?["LastName"] == .string("Ölçer"))
        #expect(create.fields["MailingAddress"]?["City"] == .string("Zürich"))
        #expect(create.fields["Email"] == .string("z@example.com") && create.changedFields.isEmpty)
        #expect(Set(update.changedFields) == ["MailingAddress.City", "Email", "LastModifiedDate"], "\(update.changedFields)")
        #expect(update.nulledFields == ["Email"])
        #expect(update.fields["MailingAddress"]?["City"] == .string("Bern") && update.fields["Email"] == .null)
        #expect(update.fields["Phone"] == .null, "an UPDATE carries only the changed fields")
        #expect(events[2].fields.values.allSatisfy { $0 == .null }, "a DELETE carries no fields")
        #expect(events[3].fields["Name"]?["LastName"] == .string("Ölçer"))
        #expect(events.allSatisfy { $0.commitNumber > 1 << 53 }, "\(events.map(\.commitNumber))")
        #expect(events.map(\.commitNumber) == events.map(\.commitNumber).sorted())
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(events.allSatisfy { abs($0.commitTimestamp - now) < 60_000 })
    }

    @Test("GetTopic names the org and the schema the events are written with; GetSchema answers it")
    func topicAndSchema() async throws {
        let world = try await World()
        let topic = try await world.subscriber.topic("/data/ContactChangeEvent", auth: world.auth)
        #expect(topic.canSubscribe && topic.tenantId == world.emulator.organizationId)
        let schema = try await world.subscriber.schema(id: topic.schemaId, auth: world.auth)
        #expect(schema.root.record?.fields.first?.name == "ChangeEventHeader")
        let error = await #expect(throws: PubSubError.self) {
            try await world.subscriber.topic("/data/NoSuchChangeEvent", auth: world.auth)
        }
        #expect(error?.code == .topicNotFound)
        await world.close()
    }

    @Test("a subscription after a stored replay id gets exactly the later events, in order")
    func resume() async throws {
        let world = try await World()
        let ids = world.emulator.org.ids("Contact", includeDeleted: false).prefix(5)
        for (n, id) in ids.enumerated() { world.emulator.org.update("Contact", id: id, fields: ["Title": "Title \(n)"]) }
        var all = world.subscriber.subscribe(to: "/data/ContactChangeEvent", from: .earliest, auth: world.auth)
            .makeAsyncIterator()
        let first = try await Self.events(5, from: &all)
        try #require(first.count == 5)
        var resumed = world.subscriber.subscribe(
            to: "/data/ContactChangeEvent", from: .after(first[1].replayId), auth: world.auth
        ).makeAsyncIterator()
        let later = try await Self.events(3, from: &resumed)
        let next = try await resumed.next()
        await world.close()
        #expect(later.map(\.replayId) == first[2...].map(\.replayId))
        #expect(later.map(\.recordIds) == first[2...].map(\.recordIds))
        guard case .keepalive(let position)? = next else { Issue.record("expected a keepalive, got \(String(describing: next))"); return }
        #expect(position == first[4].replayId, "a keepalive names the position reached")
    }

    @Test("flow control: the client requests a batch and asks for more only as events are consumed")
    func flowControl() async throws {
        let world = try await World()
        var items = try await world.live(batch: 4)
        for id in world.emulator.org.ids("Contact", includeDeleted: false).prefix(12) {
            world.emulator.org.update("Contact", id: id, fields: ["Title": "Flow"])
        }
        let one = try await Self.events(1, from: &items)
        try await Task.sleep(for: .milliseconds(500))
        #expect(one.count == 1)
        #expect(world.emulator.pubSubEventsSent == 4, "one batch of 4, though 12 events wait")
        let rest = try await Self.events(11, from: &items)
        #expect(rest.count == 11, "consuming asks for the rest")
        await world.close()
    }

    @Test("a gap fault turns the next change into GAP_UPDATE; an overflow fault swallows changes into one GAP_OVERFLOW")
    func gapAndOverflow() async throws {
        let world = try await World()
        var items = try await world.live()
        let ids = Array(world.emulator.org.ids("Contact", includeDeleted: false).prefix(4))
        _ = try world.emulator.admin("POST", "pubsub/faults", json: #"{"kind":"gap","object":"Contact","count":1}"#)
        world.emulator.org.update("Contact", id: ids[0], fields: ["Title": "Gap"])
        _ = try world.emulator.admin("POST", "pubsub/faults", json: #"{"kind":"overflow","object":"Contact","count":3}"#)
        for id in ids[1...] { world.emulator.org.update("Contact", id: id, fields: ["Title": "Overflow"]) }
        world.emulator.org.update("Contact", id: ids[0], fields: ["Title": "After"])
        let events = try await Self.events(3, from: &items)
        await world.close()
        try #require(events.count == 3)
        #expect(events[0].changeType == .gapUpdate && events[0].recordIds == [ids[0]] && events[0].changedFields.isEmpty)
        #expect(events[0].fields.values.allSatisfy { $0 == .null })
        #expect(events[1].changeType == .gapOverflow && events[1].recordIds.isEmpty && events[1].entityName == "Contact")
        #expect(events[2].changeType == .update && events[2].fields["Title"] == .string("After"))
    }

    @Test("a dropped stream, an expired replay id and a bad token each end the subscription with their typed error")
    func faults() async throws {
        let world = try await World()
        var items = try await world.live()
        world.emulator.org.update("Contact", id: world.emulator.org.ids("Contact", includeDeleted: false)[0], fields: ["Title": "x"])
        let stored = try #require(try await Self.events(1, from: &items).first).replayId
        _ = try world.emulator.admin("POST", "pubsub/faults", json: #"{"kind":"dropStream","afterEvents":0}"#)
        let dropped = await #expect(throws: PubSubError.self) { while try await items.next() != nil {} }
        #expect(dropped?.code == .streamDropped)

        _ = try world.emulator.admin("POST", "clock", json: #"{"advanceSeconds":262800}"#)
        var expired = world.subscriber.subscribe(to: "/data/ContactChangeEvent", from: .after(stored), auth: world.auth)
            .makeAsyncIterator()
        let outside = await #expect(throws: PubSubError.self) { _ = try await expired.next() }
        #expect(outside?.code == .replayIdInvalid, "73 hours later the replay id is outside the retention window")
        #expect(outside?.salesforceCode == "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted")

        let forged = PubSubAuthentication(accessToken: "00Dforged!token", instanceURL: world.auth.instanceURL, tenantId: world.auth.tenantId)
        var refused = world.subscriber.subscribe(to: "/data/ContactChangeEvent", from: .latest, auth: forged).makeAsyncIterator()
        let auth = await #expect(throws: PubSubError.self) { _ = try await refused.next() }
        #expect(auth?.code == .authentication && !(auth.map(String.init(describing:)) ?? "").contains("forged"))
        await world.close()
    }

    @Test("the rate driver's mixed changes all arrive, each within a second of its commit")
    func driver() async throws {
        let world = try await World()
        var items = try await world.live()
        _ = try world.emulator.admin("POST", "pubsub/drive", json: #"{"object":"Contact","perSecond":200,"seconds":1,"seed":7}"#)
        var lags: [Int64] = [], kinds: Set<ChangeEvent.ChangeType> = []
        for event in try await Self.events(200, from: &items) {
            lags.append(Int64(Date().timeIntervalSince1970 * 1000) - event.commitTimestamp)
            kinds.insert(event.changeType)
        }
        let status = try world.emulator.admin("GET", "pubsub/drive")
        await world.close()
        try #require(lags.count == 200 && status.contains(#""mutations":200"#), "\(status)")
        #expect(kinds == [.create, .update, .delete, .undelete])
        // A figure, not a target: latency is the stream benchmark's to measure.
        print("driver: p95 lag from commit to receipt \(lags.sorted()[189]) ms")
    }

    @Test("SF_PUBSUB_ENDPOINT: host:port is TLS, port 7443 by default; plaintext only on loopback")
    func endpoints() throws {
        #expect(try PubSubEndpoint(PubSubEndpoint.salesforce) == PubSubEndpoint(host: "api.pubsub.salesforce.com", port: 7443))
        #expect(try PubSubEndpoint("https://pubsub.example.com") == PubSubEndpoint(host: "pubsub.example.com", port: 7443))
        #expect(try PubSubEndpoint("http://127.0.0.1:9090") == PubSubEndpoint(host: "127.0.0.1", port: 9090, tls: false))
        #expect(throws: (any Error).self) { try PubSubEndpoint("http://pubsub.example.com:7443") }
        #expect(throws: (any Error).self) { try PubSubEndpoint("api.pubsub.salesforce.com:http") }
    }
}
