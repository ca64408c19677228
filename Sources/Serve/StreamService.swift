import Avro
import Foundation
import Logging
import PostgresLoader
import PubSubClient
import SalesforceClient
import Synchronization
import SyncEngine

/// `stream: true`: keeps one job's table current within seconds. Subscribes to the object's change events over the
/// Pub/Sub API from the position the table holds, gathers them for ``flushEvery`` (or ``maxBatch`` events) and hands
/// each micro-batch to the job's ``StreamApplier``, which commits the rows with the batch's last replay id.
///
/// Whatever goes wrong (a dropped stream, a refused token, a database restart, a failed batch) ends the
/// subscription; the service waits (backing off to 30 s) and subscribes again from the stored replay id, so events
/// received but not committed are simply delivered again. A replay id Salesforce no longer retains is forgotten:
/// the service resubscribes from `LATEST` and the applier heals the gap with an incremental batch run.
public final class StreamService: ServeService {
    public let name: String
    let job: JobDefinition
    let environment: ServeEnvironment
    let endpoint: PubSubEndpoint
    let flushEvery: Duration
    let maxBatch: Int
    private let state = Mutex<(notReady: String?, task: Task<Void, Never>?, finished: Bool)>(("not started", nil, false))
    /// The applier blocks (libpq, libcurl): it runs on this serial queue, never on the cooperative pool.
    private let queue: DispatchQueue

    public init(
        job: JobDefinition, environment: ServeEnvironment, endpoint: PubSubEndpoint,
        flushEvery: Duration = .milliseconds(100), maxBatch: Int = 500
    ) {
        (self.job, self.environment, self.endpoint, self.flushEvery, self.maxBatch) =
            (job, environment, endpoint, flushEvery, maxBatch)
        name = "stream \(job.name)"
        queue = DispatchQueue(label: "sfpg.stream.\(job.name)")
    }

    /// `/data/ContactChangeEvent`; a custom object `Foo__c` publishes on `/data/Foo__ChangeEvent`.
    static func topic(of object: String) -> String {
        "/data/" + (object.hasSuffix("__c") ? String(object.dropLast(1)) : object) + "ChangeEvent"
    }

    public var notReadyReason: String? { state.withLock { $0.notReady } }

    public func start(_ context: ServeContext) throws {
        let task = Task { await self.run(context) }
        state.withLock { $0.task = task }
    }

    public func stop(deadline: ContinuousClock.Instant) {
        state.withLock { $0.task }?.cancel()
        while !state.withLock({ $0.finished }), ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
    }

    private func run(_ context: ServeContext) async {
        let logger = context.logger
        var worker: StreamWorker?
        var subscriber: PubSubSubscriber?
        var backoff = Self.shortestBackoff
        while !Task.isCancelled {
            let began = ContinuousClock.now
            do {
                let current: StreamWorker
                if let worker { current = worker } else {
                    current = try await onQueue { [job, environment] in try StreamWorker(job, environment, logger) }
                }
                worker = current
                let connected = try subscriber ?? PubSubSubscriber(endpoint: endpoint)
                subscriber = connected
                try await follow(current, connected, context)
            } catch let error as PubSubError where error.code == .replayIdInvalid {
                logger.warning("stream: the stored replay id is past Salesforce's retention; resubscribing from LATEST", metadata: ["job.name": "\(job.name)"])
                _ = try? await onQueue { [worker] in try worker?.applier.forgetReplayId() }
                continue
            } catch {
                if Task.isCancelled { break }
                state.withLock { $0.notReady = "\(name): \(error)" }
                let (wait, next) = Self.backoff(backoff, after: ContinuousClock.now - began)
                logger.warning("stream: subscription ended; subscribing again", metadata: ["job.name": "\(job.name)", "error": "\(error)", "retry_in": "\(wait)"])
                if let error = error as? PubSubError, error.code == .authentication { worker?.renewToken = true }
                if error is PostgresError { worker = nil }
                try? await Task.sleep(for: wait)
                backoff = next
                continue
            }
        }
        await subscriber?.close()
        state.withLock { $0.finished = true }
    }

    static let shortestBackoff = Duration.milliseconds(500)

    /// The wait before subscribing again after a subscription that lasted `lasted`, and the one after it: doubling to
    /// 30 s while subscriptions keep failing, and from the shortest again once one stayed up a minute (it was healthy,
    /// so what ended it is a new failure, not the old one again).
    static func backoff(_ current: Duration, after lasted: Duration) -> (wait: Duration, next: Duration) {
        let wait = lasted >= .seconds(60) ? shortestBackoff : current
        return (wait, min(wait * 2, .seconds(30)))
    }

    /// One subscription, from the stored position, until it fails or the service stops.
    private func follow(_ worker: StreamWorker, _ subscriber: PubSubSubscriber, _ context: ServeContext) async throws {
        let (start, auth) = try await onQueue { try (worker.applier.replayStart(), worker.authentication()) }
        let topic = try await subscriber.topic(Self.topic(of: job.object), auth: auth)
        guard topic.canSubscribe else {
            throw PubSubError(code: .failed, message: "The integration user may not subscribe to \(topic.name).")
        }
        let from: PubSubClient.ReplayStart = if case .custom(let id) = start { .after(id) } else { .latest }
        let subscription = subscriber.subscribe(to: topic.name, from: from, auth: auth, batchSize: maxBatch)
        state.withLock { $0.notReady = nil }
        let buffer = StreamBuffer()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [maxBatch] in
                for try await item in subscription { try await buffer.append(item, max: 2 * maxBatch) }
                throw PubSubError(code: .streamDropped, message: "The subscription to \(topic.name) ended.")
            }
            group.addTask { [flushEvery, maxBatch] in
                while true {
                    if buffer.count < maxBatch { try await Task.sleep(for: flushEvery) }
                    guard let (events, replayId) = buffer.drain(max: maxBatch) else { continue }
                    try await self.apply(events, replayId, worker, context.metrics)
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func apply(_ events: [ChangeEvent], _ replayId: [UInt8], _ worker: StreamWorker, _ metrics: ServeMetrics) async throws {
        let started = ContinuousClock.now
        _ = try await onQueue { try worker.applier.apply(events, lastReplayId: replayId) }
        let labels = [("sfpg_job", job.name)]
        let now = Date().timeIntervalSince1970
        if let newest = events.map(\.commitTimestamp).max() {
            metrics.set(ServeMetrics.Stream.lagSeconds, help: "Seconds from an event's commit in Salesforce to its row committed, the last batch's newest event.", labels: labels, now - Double(newest) / 1000)
        }
        // The stored position is an event's, or a keepalive's: Salesforce's latest position when it arrived, so a
        // quiet stream's position is current even though its last event is old.
        let positionCommitted = events.last { $0.replayId == replayId }.map { Double($0.commitTimestamp) / 1000 }
        metrics.set(ServeMetrics.Stream.replayAgeSeconds, help: "Age of the stored replay position at its commit (0 for a keepalive's).", labels: labels, positionCommitted.map { now - $0 } ?? 0)
        metrics.add(ServeMetrics.Stream.eventsApplied, help: "Change events applied.", labels: labels, Double(events.count))
        metrics.set(ServeMetrics.Stream.batchEvents, help: "Events in the last micro-batch.", labels: labels, Double(events.count))
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        metrics.set(ServeMetrics.Stream.batchSeconds, help: "Seconds the last micro-batch took to apply.", labels: labels, seconds)
    }

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}

/// The job's database session, Salesforce client and applier; used only on its service's serial queue.
final class StreamWorker: @unchecked Sendable {
    let applier: StreamApplier
    let client: SalesforceClient
    var renewToken = false

    init(_ job: JobDefinition, _ environment: ServeEnvironment, _ logger: Logger) throws {
        client = SalesforceClient(configuration: environment.salesforce, logger: logger)
        applier = try StreamApplier(
            job: job, connection: try environment.connect("sfpg serve stream \(job.name)"), client: client, logger: logger)
    }

    func authentication() throws -> PubSubAuthentication {
        defer { renewToken = false }
        return try client.pubSubAuthentication(renew: renewToken)
    }
}

/// Items received and not yet applied: the events, and the replay id of the last item (an event's, or a keepalive's
/// newer position). The reader waits while it is full, so memory stays bounded when PostgreSQL is slow.
final class StreamBuffer: Sendable {
    private let items = Mutex<(events: [ChangeEvent], replayId: [UInt8]?)>(([], nil))

    var count: Int { items.withLock { $0.events.count } }

    func append(_ item: SubscriptionItem, max: Int) async throws {
        while count >= max { try await Task.sleep(for: .milliseconds(5)) }
        items.withLock { items in
            switch item {
            case .event(let event):
                items.events.append(event)
                items.replayId = event.replayId
            case .keepalive(let latest): items.replayId = latest
            }
        }
    }

    /// Up to `max` events and the replay id to store with them; nil when nothing arrived.
    func drain(max: Int) -> ([ChangeEvent], [UInt8])? {
        items.withLock { items in
            guard let last = items.replayId else { return nil }
            guard items.events.count > max else {
                defer { items = ([], nil) }
                return (items.events, last)
            }
            let taken = Array(items.events.prefix(max))
            items.events.removeFirst(max)
            return (taken, taken[max - 1].replayId)
        }
    }
}
