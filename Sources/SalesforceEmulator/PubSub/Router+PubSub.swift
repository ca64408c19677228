import Foundation

extension Router {
    /// `pubsub/…` of the admin API: change event settings, faults and the rate driver; nil for any other path.
    ///
    /// - `POST pubsub/settings {"retentionSeconds", "keepaliveMs"}`
    /// - `POST pubsub/faults {"kind": "gap", "object", "count"}`: the next `count` changes of `object` publish
    ///   `GAP_*` events (record ids, no fields) instead of change events.
    /// - `{"kind": "overflow", "object", "count"}`: the next `count` changes publish nothing but the last, one
    ///   `GAP_OVERFLOW` event for the object (as one transaction past 100,000 changes does).
    /// - `{"kind": "dropStream", "afterEvents"}`: the next stream to send that many more events ends with UNAVAILABLE.
    /// - `{"kind": "expireReplayIds"}`: every stored event is purged, as if the retention window had passed.
    /// - `POST pubsub/drive {"object", "perSecond", "seconds", "seed"}` starts mixed creates, updates, deletes and
    ///   undeletes at that rate (one driver at a time); `GET pubsub/drive` answers `{"mutations", "published",
    ///   "running"}`: the driver's attempts so far, the change events the bus has published (a mutation of a purged
    ///   record publishes none), whether it still runs.
    func adminPubSub(_ method: String, _ s: [String], body: [String: Any]) -> EmulatorResponse? {
        guard s.first == "pubsub", s.count == 2 else { return nil }
        let bus = org.changes
        func number(_ key: String) -> Double? { (body[key] as? NSNumber)?.doubleValue }
        let ok = EmulatorResponse.json(200, .object([("ok", true)]))
        switch (method, s[1]) {
        case ("POST", "settings"):
            bus.state.withLock { state in
                if let seconds = number("retentionSeconds") { state.retentionMillis = Int64(seconds * 1000) }
                if let ms = number("keepaliveMs") { state.keepalive = .milliseconds(Int64(ms)) }
            }
            return ok
        case ("POST", "faults"):
            let object = (body["object"] as? String ?? "Contact").lowercased(), count = Int(number("count") ?? 1)
            switch body["kind"] as? String {
            case "gap": bus.state.withLock { $0.gaps[object] = count }
            case "overflow": bus.state.withLock { $0.overflows[object] = count }
            case "dropStream": bus.state.withLock { $0.dropAfter = Int(number("afterEvents") ?? 0) }
            case "expireReplayIds": bus.expireAll()
            default: return .error(400, "INVALID_FAULT", "Unknown Pub/Sub fault kind")
            }
            return ok
        case ("POST", "drive"):
            let started = org.drive(
                body["object"] as? String ?? "Contact", perSecond: number("perSecond") ?? 10,
                seconds: number("seconds") ?? 10, seed: (body["seed"] as? NSNumber)?.uint64Value ?? 1)
            return started ? ok : .error(409, "DRIVER_RUNNING", "A driver is already running")
        case ("GET", "drive"):
            let running = bus.driver.withLock { $0 != nil }
            let (driven, published) = bus.state.withLock { ($0.driven, Int($0.lastReplay)) }
            return .json(200, .object([("mutations", .int(driven)), ("published", .int(published)), ("running", .bool(running))]))
        default:
            return nil
        }
    }
}
