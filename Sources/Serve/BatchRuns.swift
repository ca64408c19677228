import Foundation
import Logging
import Metrics
import PostgresLoader
import SalesforceClient
import Synchronization
import SyncEngine

/// What `sfpg serve` was configured with: read by the executable's settings reader, passed down as values.
public struct ServeEnvironment: Sendable {
    public var jobs: [JobDefinition]
    public var conninfo: String
    public var postgres: PostgresSettings
    public var salesforce: SalesforceConfiguration
    /// What every batch run gets besides its mode (download connections, API budget, resume threshold).
    public var options: SyncOptions
    /// The run metrics `sfpg run` exports, for the jobs' latest outcomes (`GET /metrics`).
    public var runMetrics: @Sendable ([JobOutcome], SyncStore) -> [MetricFamily]

    public init(
        jobs: [JobDefinition], conninfo: String, postgres: PostgresSettings, salesforce: SalesforceConfiguration,
        options: SyncOptions, runMetrics: @escaping @Sendable ([JobOutcome], SyncStore) -> [MetricFamily]
    ) {
        (self.jobs, self.conninfo, self.postgres, self.salesforce) = (jobs, conninfo, postgres, salesforce)
        (self.options, self.runMetrics) = (options, runMetrics)
    }

    func connect(_ name: String = "sfpg serve") throws -> PostgresConnection {
        try PostgresConnection(conninfo, applicationName: name, settings: postgres)
    }
}

/// What a batch run does: a sync through `sfpg run`'s pipeline, or a verify (`sfpg verify`, without repair: drift
/// is reported in `sfpg.sync_logs`, `sfpg status` and `sfpg_drift_records`, and left for a person or
/// `sfpg verify --repair`).
public enum BatchWork: Sendable, Equatable {
    case sync(SyncMode)
    case verify

    var name: String {
        switch self {
        case .sync(let mode): mode.rawValue
        case .verify: "verify"
        }
    }
}

/// How a request to start a batch run ended.
public enum RunStart: Sendable, Equatable {
    /// Started on a thread of its own; `id` names it in the logs (`serve.run_id`) and in the `sfpg.sync_logs` rows
    /// of its jobs (`request_id`).
    case started(id: String, jobs: [String])
    /// A job's lock is held (by a run of this process, another `sfpg run`, or the stream): nothing started.
    case busy(jobs: [String])
    /// Not accepting runs (standby, shutting down) or the database did not answer; why.
    case refused(String)
}

/// The batch runs `sfpg serve` starts (HTTP, schedule, services): each on a thread of its own with its own
/// connection and Salesforce client, through `SyncRunner.run` with fail-fast job locks, as `sfpg run` does.
public final class BatchRuns: Sendable {
    struct Active {
        let jobs: [String]
        let cancellation: CancellationFlag
        var canceller: PostgresCanceller?
    }
    struct State {
        var accepting = false
        var active: [String: Active] = [:]
        var latest: [String: JobOutcome] = [:]
        var counter = 0
    }
    let environment: ServeEnvironment
    let metrics: ServeMetrics
    let logger: Logger
    private let state = Mutex(State())
    /// Tells this process's run ids from an earlier one's in `sync_logs.request_id` (the counter restarts at 1).
    private let instance = String(UInt32.random(in: 0...UInt32.max), radix: 16)

    public init(environment: ServeEnvironment, metrics: ServeMetrics, logger: Logger) {
        (self.environment, self.metrics, self.logger) = (environment, metrics, logger)
    }

    /// Opens (active replica) or closes (standby, shutdown) the door for new runs.
    func accept(_ accepting: Bool) { state.withLock { $0.accepting = accepting } }

    /// Starts a run of `jobs` unless one of them is running here or locked elsewhere. Blocks for a database
    /// look at the locks: call it off the event loop.
    public func start(_ jobs: [JobDefinition], _ work: BatchWork, trigger: String) -> RunStart {
        let names = jobs.map(\.name)
        let reserved: (id: String, refusal: RunStart?) = state.withLock { state in
            guard state.accepting else { return ("", .refused("not accepting runs (standby or stopping)")) }
            let running = Set(state.active.values.flatMap(\.jobs))
            let busy = names.filter(running.contains)
            guard busy.isEmpty else { return ("", .busy(jobs: busy)) }
            state.counter += 1
            let id = "\(trigger)-\(instance)-\(state.counter)"
            state.active[id] = Active(jobs: names, cancellation: CancellationFlag())
            return (id, nil)
        }
        if let refusal = reserved.refusal { return refusal }
        let id = reserved.id
        do {
            let store = SyncStore(try environment.connect())
            let locked = try jobs.filter { try store.isJobLocked($0.name, table: $0.table) }.map(\.name)
            guard locked.isEmpty else {
                _ = state.withLock { $0.active.removeValue(forKey: id) }
                return .busy(jobs: locked)
            }
            let thread = Thread { [self] in run(id, jobs, work) }
            thread.name = "sfpg-run-\(id)"
            thread.start()
            metrics.add("sfpg_serve_runs_started_total", help: "Batch runs sfpg serve started, by trigger.",
                        labels: [("trigger", trigger)])
            return .started(id: id, jobs: names)
        } catch {
            _ = state.withLock { $0.active.removeValue(forKey: id) }
            return .refused("database: \(error)")
        }
    }

    private func run(_ id: String, _ jobs: [JobDefinition], _ work: BatchWork) {
        var logger = self.logger
        logger[metadataKey: "serve.run_id"] = "\(id)"
        let cancellation = state.withLock { $0.active[id]?.cancellation } ?? CancellationFlag()
        logger.notice("serve: run started", metadata: ["sync.mode": "\(work.name)", "jobs": "\(jobs.map(\.name))"])
        var options = environment.options
        options.lock = .failFast
        var outcomes: [JobOutcome]
        do {
            let connection = try environment.connect()
            state.withLock { $0.active[id]?.canceller = connection.makeCanceller() }
            try SchemaCheck.requireCurrent(connection)
            let client = SalesforceClient(configuration: environment.salesforce, cancellation: cancellation, logger: logger)
            let runner = SyncRunner(
                connection: connection, client: client, cancellation: cancellation, logger: logger, requestId: id)
            switch work {
            case .sync(let mode):
                options.mode = mode
                outcomes = runner.run(jobs, options: options)
            case .verify:
                let verified = runner.verify(jobs, options: VerifyOptions(lock: .failFast))
                logger.notice("serve: verify finished", metadata: [
                    "outcomes": "\(verified.map { "\($0.job): \($0.status)" })"])
                outcomes = []
            }
        } catch {
            outcomes = jobs.map { JobOutcome(job: $0.name, failedWith: error) }
        }
        for outcome in outcomes {
            metrics.set("sfpg_serve_run_duration_seconds", help: "Wall time of the last run sfpg serve started, per job.",
                        labels: [("sfpg_job", outcome.job)], outcome.seconds)
        }
        logger.notice("serve: run finished", metadata: [
            "outcomes": "\(outcomes.map { "\($0.job): \($0.status)" })"])
        state.withLock { state in
            state.active.removeValue(forKey: id)
            for outcome in outcomes { state.latest[outcome.job] = outcome }
        }
    }

    /// The latest outcome of each job this process ran.
    var latestOutcomes: [JobOutcome] { state.withLock { $0.latest.values.sorted { $0.job < $1.job } } }

    var isIdle: Bool { state.withLock { $0.active.isEmpty } }

    /// Cancels every running run the way SIGINT cancels `sfpg run`: the client stops its transfer or poll, the
    /// running statement is cancelled, the run rolls back and is logged as cancelled.
    func cancelAll() {
        state.withLock { state in
            for run in state.active.values {
                run.cancellation.cancel()
                _ = run.canceller?.cancel()
            }
        }
    }

    /// Waits until no run is active or `deadline` passes; whether they all ended.
    func waitIdle(until deadline: ContinuousClock.Instant) -> Bool {
        while !isIdle {
            if ContinuousClock.now >= deadline { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return true
    }
}
