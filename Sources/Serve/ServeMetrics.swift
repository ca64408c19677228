import Metrics
import Synchronization

/// `sfpg serve`'s own metrics, and those its services register, for `GET /metrics`. Thread-safe.
public final class ServeMetrics: Sendable {
    /// Names the change-event stream sets (label `sfpg_job`), so dashboards can count on them.
    public enum Stream {
        /// Seconds between an event's commit in Salesforce and its row committed in PostgreSQL (the last batch's).
        public static let lagSeconds = "sfpg_stream_lag_seconds"
        public static let eventsApplied = "sfpg_stream_events_applied_total"
        public static let batchEvents = "sfpg_stream_batch_events"
        public static let batchSeconds = "sfpg_stream_batch_duration_seconds"
        /// Age of the stored replay position: now minus the commit time of the last applied event.
        public static let replayAgeSeconds = "sfpg_stream_replay_position_age_seconds"
    }

    private let families = Mutex<[String: MetricFamily]>([:])

    public init() {}

    /// Sets a gauge sample (replacing the one with the same labels).
    public func set(_ name: String, help: String, labels: [(String, String)] = [], _ value: Double) {
        update(name, help: help, kind: .gauge, labels: labels) { _ in value }
    }

    /// Adds to a counter sample (a name ending in `_total`).
    public func add(_ name: String, help: String, labels: [(String, String)] = [], _ delta: Double = 1) {
        update(name, help: help, kind: .counter, labels: labels) { $0 + delta }
    }

    private func update(
        _ name: String, help: String, kind: MetricFamily.Kind, labels: [(String, String)], _ value: (Double) -> Double
    ) {
        families.withLock { families in
            var family = families[name] ?? MetricFamily(name, help: help, kind: kind, samples: [])
            if let index = family.samples.firstIndex(where: { $0.labels.elementsEqual(labels, by: ==) }) {
                family.samples[index].value = value(family.samples[index].value)
            } else {
                family.samples.append(MetricFamily.Sample(labels, value(0)))
            }
            families[name] = family
        }
    }

    /// Every family, sorted by name.
    public func snapshot() -> [MetricFamily] {
        families.withLock { $0.values.sorted { $0.name < $1.name } }
    }
}
