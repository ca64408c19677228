import Foundation

/// Hands result-page indices to download workers in order and completed pages back to the loading thread, with
/// at most `limit` pages downloaded or downloading but not yet loaded.
///
/// Claims go strictly in index order and a worker may claim page `i` only while `i < loaded + limit`, so the page
/// the loader waits for has always been claimed: the loader can never wait on a page no worker will fetch.
final class PageSpoolQueue: @unchecked Sendable {
    // @unchecked: every stored property below is read and written only while `condition` is locked.
    enum Outcome {
        case ready(path: String, records: Int, bytes: Int64, empty: Bool)
        case failed(any Error)
    }

    private let condition = NSCondition()
    private let count: Int
    private let limit: Int
    private var nextToClaim = 0
    private var loaded = 0
    private var outcomes: [Int: Outcome] = [:]
    private var stopped = false
    private var runningWorkers = 0
    private(set) var peakInFlight = 0
    private(set) var workerAPICalls = 0

    init(count: Int, limit: Int) {
        self.count = count
        self.limit = max(1, limit)
    }

    func workerStarted() { locked { runningWorkers += 1 } }

    func workerFinished(apiCalls: Int) {
        locked {
            runningWorkers -= 1
            workerAPICalls += apiCalls
        }
    }

    /// The next page to download, blocking while `limit` pages are in flight; nil when done or stopped.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !stopped && nextToClaim < count && nextToClaim >= loaded + limit { condition.wait() }
        guard !stopped, nextToClaim < count else { return nil }
        defer { nextToClaim += 1 }
        peakInFlight = max(peakInFlight, nextToClaim + 1 - loaded)
        return nextToClaim
    }

    func complete(_ index: Int, _ outcome: Outcome) {
        locked { outcomes[index] = outcome }
    }

    /// Blocks until page `index` is downloaded (or failed), waking every 50 ms to honour `cancellation`.
    func wait(for index: Int, cancellation: CancellationFlag) throws -> Outcome {
        condition.lock()
        defer { condition.unlock() }
        while outcomes[index] == nil {
            if cancellation.isCancelled { throw SalesforceError.cancelled() }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        return outcomes.removeValue(forKey: index)!
    }

    /// The loader is done with page `index` (its file is gone): one more page may be claimed.
    func markLoaded(_ index: Int) { locked { loaded = index + 1 } }

    /// Stops every worker at its next claim.
    func stop() { locked { stopped = true } }

    /// Blocks until every started worker has returned.
    func waitForWorkers() {
        condition.lock()
        defer { condition.unlock() }
        while runningWorkers > 0 { condition.wait() }
    }

    /// Spool files of pages completed but never loaded (after a failure), for clean-up.
    func unloadedPaths() -> [String] {
        locked {
            outcomes.values.compactMap { outcome in
                if case let .ready(path, _, _, _) = outcome { return path }
                return nil
            }
        }
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return body()
    }
}
