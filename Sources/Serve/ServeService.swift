import Logging
import SyncEngine

/// A long-running part of `sfpg serve` besides its schedule and HTTP endpoints: the seam the change-event stream of
/// issue #20 plugs into. `sfpg serve` starts every service when its replica becomes the active one and stops them
/// on SIGTERM/SIGINT before it cancels batch runs.
public protocol ServeService: AnyObject, Sendable {
    /// For logs and `/ready`'s reasons (`stream contacts`).
    var name: String { get }
    /// Starts the service and returns promptly: its work runs on a thread or task of its own.
    /// - Throws: whatever stops it from starting; `sfpg serve` then exits with that error's code.
    func start(_ context: ServeContext) throws
    /// Stops the service (stop reading, commit what was applied) and returns once it has, or at `deadline`.
    func stop(deadline: ContinuousClock.Instant)
    /// Why the service is not ready (a subscription not live yet, a reconnect); nil when it is.
    var notReadyReason: String? { get }
}

/// What a service gets from `sfpg serve`.
public struct ServeContext: Sendable {
    /// Every job of the jobs directory.
    public let jobs: [JobDefinition]
    /// Where it sets its gauges and counters for `GET /metrics` (names in ``ServeMetrics/Stream``).
    public let metrics: ServeMetrics
    public let logger: Logger
    /// Starts a batch run of some jobs through the pipeline `sfpg run` uses (healing falls back to one), as
    /// `POST /sync/…` does: it fails fast on a job lock held elsewhere, never queues.
    public let startRun: @Sendable (_ jobs: [JobDefinition], _ work: BatchWork, _ trigger: String) -> RunStart
}
