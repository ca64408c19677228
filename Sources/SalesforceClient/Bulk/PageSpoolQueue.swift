import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Hands result-page indices to download workers in order and completed pages back to the loading thread, with
/// at most `limit` pages downloaded or downloading but not yet loaded, and at most `budget` bytes spooled.
///
/// Pages are claimed in index order (a page given up, see below, is claimed again before any later one), and a
/// worker may claim page `i` only while `i < loaded + limit`, so the page the loader waits for (the *head*) is
/// always claimed or claimable: the loader can never wait on a page no worker will fetch.
///
/// The byte budget bounds the spool (often RAM: `/tmp` on tmpfs) instead of the page count alone, since pages vary
/// from kilobytes to hundreds of megabytes. Workers mostly wait before they claim a page: a page other than the
/// head is claimed only while the pages in flight, each expected to grow to the largest page seen so far, leave
/// room for one more. Waiting there holds no connection, and it means fewer connections, not more bytes. Every
/// write is still charged first (``charge(_:_:)``), because a page can be larger than expected:
/// - a page other than the head waits while the write would exceed the budget, but not for long
///   (``maxWriteWait``): a connection stalled that long could be dropped by the server, so the page is given up
///   and claimed again later instead;
/// - the head never waits for later pages (the loader cannot free them before the head): if it needs room, the
///   newest later pages are given up (*evicted*: a finished one is dropped, a downloading one stops at its next
///   write) and fetched again once there is room. A head larger than the whole budget proceeds alone.
/// So the spooled bytes never exceed the budget, except by a single page that alone is larger.
final class PageSpoolQueue: @unchecked Sendable {
    // @unchecked: every stored property below is read and written only while `condition` is locked.
    enum Outcome {
        /// `descriptor` is an open, already unlinked spool file; whoever removes the outcome closes it.
        case ready(descriptor: Int32, records: Int, bytes: Int64, empty: Bool)
        case failed(any Error)
    }

    /// Thrown from a worker's write when its page was evicted to make room for the head; the worker discards the
    /// page and hands it back with ``requeue(_:)``.
    struct Evicted: Error {}

    private let condition = NSCondition()
    /// Pages known so far; grows while a `resultPages` listing is still being read (see ``extend(with:)``).
    private var count: Int
    /// The download URL of each known page, when the queue hands out links (see ``link(_:)``).
    private var links: [String]
    /// No more pages will be added: `count` is the total.
    private var listingDone: Bool
    /// Why the listing stopped early; pages past `count` fail with it.
    private var listingFailure: (any Error)?
    private let limit: Int
    /// Most bytes spooled at once (see the type's description for the one exception).
    let budget: Int64
    private var nextToClaim = 0
    /// Pages given up after being claimed; claimed again before `nextToClaim`.
    private var requeued: Set<Int> = []
    private var loaded = 0
    private var outcomes: [Int: Outcome] = [:]
    /// Bytes on disk per page, downloading or finished but not yet loaded.
    private var spooled: [Int: Int64] = [:]
    private var totalSpooled: Int64 = 0
    /// Downloading pages told to give up at their next write.
    private var evicted: Set<Int> = []
    /// Claimed pages not yet completed or given up.
    private var inProgress: Set<Int> = []
    /// Bytes of the largest page completed so far: what a page in flight is expected to grow to.
    private var largestPage: Int64 = 0
    /// How long a page other than the head waits for room in the middle of its transfer before it is given up.
    let maxWriteWait: Duration
    private var stopped = false
    private var firstFailure: (any Error)?
    /// Set when the download returns: writers waiting for room give up too.
    private var shutDown = false
    private var runningWorkers = 0
    private(set) var peakInFlight = 0
    private(set) var peakSpooledBytes: Int64 = 0
    private(set) var evictions = 0
    private(set) var workerAPICalls = 0
    /// Connections the finished workers opened, for the caller's ``SalesforceClient/connectionsOpened``.
    private(set) var workerConnections = 0

    init(count: Int, limit: Int, budget: Int64 = .max, maxWriteWait: Duration = .seconds(10)) {
        self.count = count
        links = []
        listingDone = true
        self.limit = max(1, limit)
        self.budget = max(1, budget)
        self.maxWriteWait = maxWriteWait
    }

    /// A queue over result page links that may still be arriving: ``extend(with:)`` adds the later ones as the
    /// listing is read, ``endListing(failure:)`` says it is complete (or broke off).
    convenience init(
        links: [String], listingDone: Bool, limit: Int, budget: Int64 = .max, maxWriteWait: Duration = .seconds(10)
    ) {
        self.init(count: links.count, limit: limit, budget: budget, maxWriteWait: maxWriteWait)
        self.links = links
        self.listingDone = listingDone
    }

    func extend(with more: [String]) {
        locked {
            links += more
            count += more.count
        }
    }

    /// The listing is complete; with `failure`, it broke off and the pages it never listed fail with that error.
    func endListing(failure: (any Error)? = nil) {
        locked {
            listingDone = true
            listingFailure = failure
            if let failure, firstFailure == nil { firstFailure = failure }
        }
    }

    func link(_ index: Int) -> String { locked { links[index] } }

    func workerStarted() { locked { runningWorkers += 1 } }

    func workerFinished(apiCalls: Int, connections: Int = 0) {
        locked {
            runningWorkers -= 1
            workerAPICalls += apiCalls
            workerConnections += connections
        }
    }

    /// The next page to download, blocking while the page or byte bound is reached; `nil` when every page is
    /// loaded or the queue is stopped. Workers stay until then, because an evicted page must be fetched again.
    func claim() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if stopped || (listingDone && loaded >= count) { return nil }
            let candidate = requeued.min() ?? (nextToClaim < count && nextToClaim < loaded + limit ? nextToClaim : nil)
            if let candidate, candidate == loaded || roomForAnotherPage {
                if requeued.remove(candidate) == nil { nextToClaim += 1 }
                inProgress.insert(candidate)
                peakInFlight = max(peakInFlight, nextToClaim - loaded - requeued.count)
                condition.broadcast()
                return candidate
            }
            condition.wait()
        }
    }

    /// Whether one more page fits next to the pages in flight, each expected to reach ``largestPage``.
    private var roomForAnotherPage: Bool {
        guard totalSpooled < budget else { return false }
        let finished = spooled.filter { !inProgress.contains($0.key) }.values.reduce(0, +)
        let expected = inProgress.reduce(finished) { $0 + max(spooled[$1] ?? 0, largestPage) }
        return expected + largestPage <= budget
    }

    /// Accounts `bytes` about to be written to page `index`'s spool file, waiting or evicting as described above.
    /// - Throws: ``Evicted`` when the page must be given up; `.cancelled` after ``shutDownNow()``.
    func charge(_ index: Int, _ bytes: Int64) throws {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        let deadline = ContinuousClock.now + maxWriteWait
        while true {
            if shutDown { throw SalesforceError.cancelled() }
            if evicted.contains(index) { throw Evicted() }
            if totalSpooled + bytes <= budget { break }
            if index == loaded {
                // Pages already told to give up free their bytes at their next write: wait for them if that is
                // enough, else evict one more. Nothing left to free at all: the head proceeds alone.
                let pending = spooled.filter { evicted.contains($0.key) }.values.reduce(0, +)
                if totalSpooled - pending + bytes > budget {
                    if makeRoomForHead() { continue }
                    if !spooled.contains(where: { $0.key != index && $0.value > 0 }) { break }
                }
            } else if requeued.contains(loaded) || ContinuousClock.now >= deadline {
                // The loader waits for a page nobody holds, or this transfer has stood still long enough for the
                // server to drop it: give the page up (and its connection) and claim it again later.
                evicted.insert(index)
                evictions += 1
                throw Evicted()
            }
            // Wake the pages just evicted (they may be waiting here too) and claimers of requeued pages.
            condition.broadcast()
            if index == loaded {
                condition.wait()
            } else {
                _ = condition.wait(until: Date(timeIntervalSinceNow: 0.2))
            }
        }
        spooled[index, default: 0] += bytes
        totalSpooled += bytes
        peakSpooledBytes = max(peakSpooledBytes, totalSpooled)
    }

    /// Evicts the newest later page holding bytes; `false` when there is none left to evict.
    private func makeRoomForHead() -> Bool {
        let victims = spooled.filter { $0.key != loaded && $0.value > 0 && !evicted.contains($0.key) }.keys
        guard let victim = victims.max() else { return false }
        evictions += 1
        if case let .ready(descriptor, _, _, _)? = outcomes[victim] {
            outcomes[victim] = nil
            close(descriptor)
            totalSpooled -= spooled.removeValue(forKey: victim) ?? 0
            requeued.insert(victim)
        } else {
            evicted.insert(victim)
        }
        return true
    }

    /// Page `index`'s spool file was emptied (a retry discarded a half page): its bytes are free again.
    func release(_ index: Int) {
        locked { totalSpooled -= spooled.removeValue(forKey: index) ?? 0 }
    }

    /// Hands back a page given up after ``Evicted`` (its file is gone); it is claimed again before later pages.
    func requeue(_ index: Int) {
        locked {
            totalSpooled -= spooled.removeValue(forKey: index) ?? 0
            evicted.remove(index)
            inProgress.remove(index)
            requeued.insert(index)
        }
    }

    func complete(_ index: Int, _ outcome: Outcome) {
        locked {
            evicted.remove(index)
            inProgress.remove(index)
            if case let .ready(_, _, bytes, _) = outcome { largestPage = max(largestPage, bytes) }
            outcomes[index] = outcome
            if case let .failed(error) = outcome, firstFailure == nil { firstFailure = error }
        }
    }

    /// Blocks until page `index` is downloaded (or failed), waking every 50 ms to honour `cancellation`; nil when
    /// the listing ended before page `index`: there is no such page.
    func wait(for index: Int, cancellation: CancellationFlag) throws -> Outcome? {
        condition.lock()
        defer { condition.unlock() }
        while outcomes[index] == nil {
            if cancellation.isCancelled { throw SalesforceError.cancelled() }
            if listingDone && index >= count {
                if let listingFailure { return .failed(listingFailure) }
                return nil
            }
            // After a failure no page is claimed any more: one given up for the budget (or never claimed) will not
            // come, so the failure is the answer.
            if stopped, let firstFailure, requeued.contains(index) || index >= nextToClaim {
                return .failed(firstFailure)
            }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        return outcomes.removeValue(forKey: index)!
    }

    /// The loader is done with page `index` (and has closed its file): its bytes are free and the next page is
    /// the head.
    func markLoaded(_ index: Int) {
        locked {
            totalSpooled -= spooled.removeValue(forKey: index) ?? 0
            loaded = index + 1
        }
    }

    /// Stops every worker at its next claim. Pages being written go on (after a failure, the pages before the
    /// failed one still need to reach the loader, so it reports the first failure in page order).
    func stop() { locked { stopped = true } }

    /// Stops every worker at its next claim or write, for the end of the download.
    func shutDownNow() {
        locked {
            stopped = true
            shutDown = true
        }
    }

    /// Blocks until every started worker has returned.
    func waitForWorkers() {
        condition.lock()
        defer { condition.unlock() }
        while runningWorkers > 0 { condition.wait() }
    }

    /// Closes the spool files of pages completed but never loaded (after a failure).
    func closeUnloaded() {
        locked {
            for outcome in outcomes.values {
                if case let .ready(descriptor, _, _, _) = outcome { close(descriptor) }
            }
            outcomes.removeAll()
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
