import Synchronization

/// A thread-safe flag another thread sets to stop the client's blocking work.
///
/// The client checks it between requests, between polls, and from libcurl's progress callback during a
/// transfer, so a long download stops within about a second of ``cancel()``.
public final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Creates an unset flag.
    public init() {}

    /// Requests cancellation; idempotent.
    public func cancel() { flag.store(true, ordering: .releasing) }

    /// Whether ``cancel()`` has been called.
    public var isCancelled: Bool { flag.load(ordering: .acquiring) }
}
