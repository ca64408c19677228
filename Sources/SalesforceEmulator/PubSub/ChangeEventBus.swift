import Foundation
import Synchronization

/// The emulator's event bus for Change Data Capture: every mutation of the org's data becomes a change event with the
/// next replay id, kept for the retention window (Salesforce: 72 hours) on the emulator's clock, and read by the
/// Pub/Sub server's subscriptions. Faults change what the next mutations publish: gap events instead of change
/// events, a run of swallowed changes ending in one overflow event, a dropped stream, the purge of every stored event
/// (a stored replay id then lies outside the retention window).
final class ChangeEventBus: Sendable {
    struct Event: Sendable {
        let replay: Int64
        let entity: String
        let schemaId: String
        let payload: [UInt8]
        /// Emulator-clock milliseconds of the change.
        let time: Int64
    }

    struct State: Sendable {
        var events: [Event] = []
        var lastReplay: Int64 = 0
        /// The newest replay id whose event was purged: it and every older one are outside the retention window.
        var purgedThrough: Int64 = 0
        var transactions: Int64 = 0
        var retentionMillis: Int64
        /// How long an idle subscription waits before an empty `FetchResponse`.
        var keepalive: Duration
        /// Mutations made by the rate driver (``Org/drive(_:perSecond:seconds:seed:)``) so far.
        var driven = 0
        /// Events sent to subscribers so far.
        var sent = 0
        /// Entity (lower-cased) → mutations still to publish as gap events.
        var gaps: [String: Int] = [:]
        /// Entity (lower-cased) → mutations still to swallow; the last one publishes a `GAP_OVERFLOW` event.
        var overflows: [String: Int] = [:]
        /// Events a stream may still send before it is dropped; nil when no drop is armed.
        var dropAfter: Int?
    }

    /// Whether mutations publish events at all (only with a Pub/Sub port: bulk benchmarks pay nothing).
    let enabled: Bool
    let schemas: [String: ChangeEventSchema]
    let state: Mutex<State>
    /// Salesforce's commit numbers are large; the emulator's start past 2^53 so a client that reads them through
    /// a double loses digits visibly.
    static let firstCommitNumber: Int64 = 9_007_199_254_740_993

    /// The rate driver's task while it runs.
    let driver = Mutex<Task<Void, Never>?>(nil)

    init(objects: [ObjectSchema], enabled: Bool, retention: Duration, keepalive: Duration) {
        self.enabled = enabled
        schemas = Dictionary(objects.map { ($0.name.lowercased(), ChangeEventSchema($0)) }, uniquingKeysWith: { a, _ in a })
        state = Mutex(State(retentionMillis: Org.millis(retention), keepalive: keepalive))
    }

    func schema(id: String) -> ChangeEventSchema? { schemas.values.first { $0.id == id } }

    /// The entity of a topic: `/data/ContactChangeEvent` → `Contact`, `/data/Wide__ChangeEvent` → `Wide__c`;
    /// `/data/ChangeEvents` → "" (every entity); nil for a topic the org does not have.
    func entity(ofTopic topic: String) -> String?? {
        if topic == "/data/ChangeEvents" { return .some(nil) }
        guard topic.hasPrefix("/data/"), topic.hasSuffix("ChangeEvent") else { return nil }
        var name = String(topic.dropFirst(6).dropLast(11))
        if name.hasSuffix("__") { name += "c" }
        return schemas[name.lowercased()].map { .some($0.entity) }
    }

    /// Publishes the event of one record's change; `values` are the event's field values (object field index → text).
    func publish(_ kind: ChangeKind, entity: String, id: String, changed: [Int], nulled: [Int], values: [Int: String], at time: Int64) {
        guard enabled, let schema = schemas[entity.lowercased()] else { return }
        state.withLock { state in
            let key = entity.lowercased()
            var header = ChangeHeader(
                kind: kind, recordIds: [id], commitTimestamp: time, commitNumber: 0, transactionKey: "",
                commitUser: SalesforceId.make(prefix: "005", index: 0), changed: changed, nulled: nulled)
            var values = values
            if let left = state.overflows[key] {
                state.overflows[key] = left > 1 ? left - 1 : nil
                guard left == 1 else { return }
                (header.kind, header.recordIds, header.changed, header.nulled, values) = (.gapOverflow, [], [], [], [:])
            } else if let left = state.gaps[key] {
                state.gaps[key] = left > 1 ? left - 1 : nil
                (header.kind, header.changed, header.nulled, values) = (kind.gap, [], [], [:])
            }
            Self.append(&state, schema: schema, header: header, values: values)
        }
    }

    private static func append(_ state: inout State, schema: ChangeEventSchema, header: ChangeHeader, values: [Int: String]) {
        state.transactions += 1
        state.lastReplay += 1
        var header = header
        header.commitNumber = firstCommitNumber + state.transactions * 7
        let hex = String(UInt64(state.transactions) &* 0x9E37_79B9_7F4A_7C15 >> 16, radix: 16)
        header.transactionKey = "0000cdc0-5eed-4000-8000-" + String(repeating: "0", count: max(0, 12 - hex.count)) + hex
        state.events.append(
            Event(
                replay: state.lastReplay, entity: schema.entity, schemaId: schema.id,
                payload: schema.encode(header, values: values), time: header.commitTimestamp))
    }

    /// Drops events older than the retention window.
    func purge(now: Int64) {
        state.withLock { state in
            let cutoff = now - state.retentionMillis
            guard let first = state.events.first, first.time < cutoff else { return }
            let kept = state.events.firstIndex { $0.time >= cutoff } ?? state.events.count
            state.purgedThrough = state.events[kept - 1].replay
            state.events.removeFirst(kept)
        }
    }

    /// Purges every stored event now, as if the retention window had passed.
    func expireAll() {
        state.withLock { state in
            state.purgedThrough = state.lastReplay
            state.events.removeAll()
        }
    }

    /// Where a subscription starts: it is sent the events after the returned replay id.
    func start(_ preset: Int, replayId: [UInt8], now: Int64) -> Int64? {
        purge(now: now)
        return state.withLock { state in
            switch preset {
            case 1: return (state.events.first?.replay ?? state.lastReplay + 1) - 1
            case 2:
                // A replay id this bus never issued, or one whose event was purged, is outside retention.
                guard let r = Self.decode(replayId), r <= state.lastReplay,
                    r > state.purgedThrough || (r == 0 && state.purgedThrough == 0)
                else { return nil }
                return r
            default: return state.lastReplay
            }
        }
    }

    /// Up to `limit` events of `entity` (all when nil) after replay id `position`, and the replay id up to which the
    /// bus was read (past events of other entities).
    func events(after position: Int64, entity: String?, limit: Int) -> (events: [Event], readTo: Int64) {
        state.withLock { state in
            var found: [Event] = [], readTo = max(position, state.events.first.map { $0.replay - 1 } ?? state.lastReplay)
            var i = state.events.partitionPoint { $0.replay <= position }
            while i < state.events.count, found.count < limit {
                let event = state.events[i]
                if entity == nil || event.entity == entity { found.append(event) }
                readTo = event.replay
                i += 1
            }
            if i == state.events.count { readTo = max(readTo, state.lastReplay) }
            return (found, readTo)
        }
    }

    /// Counts events a stream sends; true (and nothing counted) when an armed drop fault ends the stream now.
    func takeDrop(sending count: Int) -> Bool {
        state.withLock { state in
            if let left = state.dropAfter, left <= 0 {
                state.dropAfter = nil
                return true
            }
            state.sent += count
            state.dropAfter = state.dropAfter.map { $0 - count }
            return false
        }
    }

    static func encode(_ replay: Int64) -> [UInt8] { withUnsafeBytes(of: replay.bigEndian) { Array($0) } }

    static func decode(_ bytes: [UInt8]) -> Int64? {
        guard bytes.count == 8 else { return nil }
        return bytes.reduce(0) { $0 << 8 | Int64($1) }
    }

    func reset() {
        driver.withLock { $0?.cancel() }
        state.withLock { state in state = State(retentionMillis: state.retentionMillis, keepalive: state.keepalive) }
    }
}

extension Array {
    /// The first index whose element fails `belongs` in an array partitioned by it (binary search).
    func partitionPoint(_ belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongs(self[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
