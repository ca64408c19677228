import Foundation
import Logging
import PostgresLoader
import Synchronization
import SyncEngine

/// `sfpg serve`'s flags and settings.
public struct ServeOptions: Sendable {
    public var host: String
    public var port: Int
    /// `SFPG_SERVE_TOKEN`; nil turns the POST endpoints off.
    public var token: String?
    /// SIGTERM to exit: running batches get 40% of it to finish, then are cancelled.
    public var grace: Duration
    /// How often the process looks: a standby at the serve lock, the active one at its lock's session and the
    /// schedules (cron has minutes; a second is early enough).
    public var poll: Duration = .seconds(1)

    public init(host: String, port: Int, token: String?, grace: Duration) {
        (self.host, self.port, self.token, self.grace) = (host, port, token, grace)
    }
}

/// The long-running process: HTTP endpoints, the job files' schedules, the registered services, one active
/// replica per database (a session-level advisory lock), and a graceful stop.
public final class ServeProcess: Sendable {
    public enum Role: String, Sendable { case standby, active, stopping }

    let environment: ServeEnvironment
    let options: ServeOptions
    let services: [any ServeService]
    let logger: Logger
    let metrics = ServeMetrics()
    let runs: BatchRuns
    private let state = Mutex<Role>(.standby)
    private let stopRequested = Atomic<Bool>(false)
    private let databaseProblem = Mutex<String?>(nil)

    public init(environment: ServeEnvironment, options: ServeOptions, services: [any ServeService], logger: Logger) {
        (self.environment, self.options, self.services, self.logger) = (environment, options, services, logger)
        runs = BatchRuns(environment: environment, metrics: metrics, logger: logger)
    }

    var role: Role { state.withLock { $0 } }

    /// Asks `run` to stop (SIGTERM, SIGINT); returns at once.
    public func requestStop() { stopRequested.store(true, ordering: .releasing) }
    public var isStopRequested: Bool { stopRequested.load(ordering: .acquiring) }
    var stopping: Bool { isStopRequested }

    /// Why `/ready` says 503, or nil.
    func notReadyReason() -> String? {
        switch role {
        case .standby: return databaseProblem.withLock { $0 } ?? "standby: another sfpg serve holds the serve lock"
        case .stopping: return "stopping"
        case .active: break
        }
        do { _ = try environment.connect().execute("SELECT 1") } catch { return "database unreachable: \(error)" }
        return services.lazy.compactMap { service in service.notReadyReason.map { "\(service.name): \($0)" } }.first
    }

    /// Serves until ``requestStop()``, then stops within the grace period. Blocks the calling thread.
    /// - Parameter listening: called with the bound port once the endpoints answer.
    /// - Throws: when the port cannot be bound or a service fails to start.
    public func run(listening: (Int) -> Void = { _ in }) throws {
        let routes = ServeRoutes(process: self)
        let server = try HTTPServer(host: options.host, port: options.port, quick: { routes.quick($0) }) { routes.reply($0) }
        defer { server.stop() }
        logger.notice("serve: listening", metadata: ["serve.address": "\(options.host):\(server.port)"])
        listening(server.port)
        var lock: PostgresConnection?
        var scheduler = Scheduler(jobs: environment.jobs)
        while !stopping {
            if role == .standby {
                lock = try takeOver()
                if lock != nil { scheduler.activated(at: Date()) }
            } else if let held = lock, !stillHeld(held) {
                lock = nil
                demote(to: .standby, reason: "lost the database session that holds the serve lock")
            } else if let now = scheduler.newMinute(Date()) {
                for (job, work) in scheduler.runs(at: now, verifying: dueVerifies()) { startScheduled(job, work) }
            }
            sleep(options.poll)
        }
        demote(to: .stopping, reason: "signal received")
        lock = nil
    }

    /// Takes the serve lock if it is free, then starts the services and opens for runs; nil while standby.
    private func takeOver() throws -> PostgresConnection? {
        do {
            let connection = try environment.connect("sfpg serve (lock)")
            guard try SyncStore(connection).tryServeLock() else {
                databaseProblem.withLock { $0 = nil }
                return nil
            }
            databaseProblem.withLock { $0 = nil }
            logger.notice("serve: active (holds the serve lock)")
            let context = ServeContext(
                jobs: environment.jobs, metrics: metrics, logger: logger,
                startRun: { [runs] jobs, work, trigger in runs.start(jobs, work, trigger: trigger) })
            for service in services { try service.start(context) }
            state.withLock { $0 = .active }
            runs.accept(true)
            return connection
        } catch let error as PostgresError {
            databaseProblem.withLock { $0 = "standby: database unreachable: \(error)" }
            return nil
        }
    }

    private func stillHeld(_ connection: PostgresConnection) -> Bool {
        (try? connection.execute("SELECT 1")) != nil
    }

    /// The jobs whose `verify:` interval has passed since their last verify (or that were never verified).
    private func dueVerifies() -> Set<String> {
        let cadences = environment.jobs.compactMap { job in job.verifySeconds.map { (job.name, $0) } }
        guard !cadences.isEmpty else { return [] }
        do {
            let latest = try SyncStore(try environment.connect()).latestVerifies()
            return Set(cadences.filter { name, every in
                latest[name]?.secondsAgo.map { $0 >= Double(every) } ?? true
            }.map(\.0))
        } catch {
            logger.warning("serve: could not read when the jobs were last verified", metadata: ["error": "\(error)"])
            return []
        }
    }

    private func startScheduled(_ job: JobDefinition, _ work: BatchWork) {
        switch runs.start([job], work, trigger: "schedule") {
        case .started: break
        case .busy(let names):
            logger.notice("serve: scheduled run skipped: its job's lock is held", metadata: [
                "jobs": "\(names)", "sync.mode": "\(work.name)"])
        case .refused(let reason):
            logger.warning("serve: scheduled run not started", metadata: ["reason": "\(reason)"])
        }
    }

    /// Stops being active: no new runs, services stopped, running batches given 40% of the grace period to finish
    /// and then cancelled (rolled back, logged as cancelled), all within the grace period.
    private func demote(to role: Role, reason: String) {
        let wasActive = state.withLock { state in
            defer { state = role }
            return state == .active
        }
        runs.accept(false)
        guard wasActive || !runs.isIdle else { return }
        logger.notice("serve: stopping services and runs", metadata: ["reason": "\(reason)"])
        let start = ContinuousClock.now
        for service in services { service.stop(deadline: start + options.grace * 0.4) }
        // The cancel needs time of its own (abort the Bulk job, roll back, write the `cancelled` row): measured
        // 0.1 s alone, seconds on a loaded machine; a cut-off run leaves no row at all.
        if !runs.waitIdle(until: start + options.grace * 0.4) {
            logger.notice("serve: cancelling the running batch (grace period)")
            runs.cancelAll()
            if !runs.waitIdle(until: start + options.grace * 0.95) {
                logger.warning("serve: a cancelled run did not finish within the grace period")
            }
        }
    }

    private func sleep(_ duration: Duration) {
        let end = ContinuousClock.now + duration
        while !stopping && ContinuousClock.now < end { Thread.sleep(forTimeInterval: 0.05) }
    }
}
