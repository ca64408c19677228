import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

extension SalesforceClient {
    /// Downloads the pages behind `links` (from ``resultPageLinks(_:maxRecords:expectedRecords:)``) over
    /// `connections` connections at once and hands them to `consumer` strictly in link order, one page at a time, as
    /// the sequential ``downloadResults(_:maxRecords:expectedRecords:into:)`` would.
    ///
    /// Each worker thread owns its own libcurl handle and fetches whole pages into spool files (decoded CSV) in
    /// a private temporary directory, with the same per-page retries and completeness checks as the sequential
    /// path. The calling thread replays finished pages to the consumer while later pages download, so a slow
    /// consumer (COPY) overlaps with the network. At most `maxPagesInFlight` pages exist on disk or in transfer at
    /// any time, and at most ``SalesforceConfiguration/spoolBudgetBytes`` bytes are spooled (see
    /// ``PageSpoolQueue``); memory does not grow with the result size. Spool files are unlinked as soon as they are
    /// created, so they vanish with the process however it ends; the spool directory is removed on return, and one
    /// left by a killed process is removed by the next download.
    ///
    /// - Parameters:
    ///   - expectedRecords: the job's `numberRecordsProcessed`; when known, the pages must hold exactly that many
    ///     records (more fails as soon as it shows, fewer at the end).
    ///   - connections: worker threads (at least 1).
    ///   - maxPagesInFlight: spooled plus downloading pages not yet consumed; at least `connections` is sensible.
    ///   - spoolDirectory: where the private spool directory is created; default
    ///     ``SalesforceConfiguration/spoolDirectory`` (`SFPG_SPOOL_DIR`), else `TMPDIR`, else `/tmp`.
    /// - Throws: ``SalesforceError`` (the first failing page's, after its retries; `.incompleteResults` for a page
    ///   that stayed incomplete or a record total that disagrees), or the consumer's error as is.
    public func downloadResults(
        _ jobId: String, links: [String], expectedRecords: Int?, connections: Int, maxPagesInFlight: Int,
        spoolDirectory: String? = nil, into consumer: some ResultPageConsumer
    ) throws -> DownloadSummary {
        try downloadResults(
            jobId, links: links, listing: nil, expectedRecords: expectedRecords, connections: connections,
            maxPagesInFlight: maxPagesInFlight, spoolDirectory: spoolDirectory, into: consumer)
    }

    /// As ``downloadResults(_:links:expectedRecords:connections:maxPagesInFlight:spoolDirectory:into:)``, for a
    /// listing still being read: `links` came from its first answer, and a thread of its own reads the rest while
    /// those pages download. Waiting for the whole listing first left every connection idle while the org (or the
    /// emulator, which renders each page to find where it ends) answered it: 2 s of a 200k-row sync.
    public func downloadResults(
        _ jobId: String, links: [String], listing: ResultPageListing?, expectedRecords: Int?, connections: Int,
        maxPagesInFlight: Int, spoolDirectory: String? = nil, into consumer: some ResultPageConsumer
    ) throws -> DownloadSummary {
        try checkCancellation()
        var summary = DownloadSummary(pages: 0, records: 0, bytes: 0)
        let listingDone = listing?.isDone ?? true
        let workers = max(1, listingDone ? min(connections, links.count) : connections)
        summary.connections = workers
        guard !links.isEmpty || !listingDone else { return summary }
        let directory = try Self.makeSpoolDirectory(
            in: spoolDirectory ?? configuration.spoolDirectory,
            setting: spoolDirectory == nil ? configuration.spoolDirectorySetting : nil)
        let queue = PageSpoolQueue(
            links: links, listingDone: listingDone, limit: max(maxPagesInFlight, 1),
            budget: max(1, configuration.spoolBudgetBytes))
        // Workers get their own flag so the loader can stop them without cancelling the whole run.
        let stopWorkers = CancellationFlag()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer {
            queue.shutDownNow()
            stopWorkers.cancel()
            queue.waitForWorkers()
            apiCallCount += queue.workerAPICalls
            connectionsOpened += queue.workerConnections
            queue.closeUnloaded()
            Self.removeSpoolDirectory(directory)
            buffer.deallocate()
        }
        startWorkers(workers, jobIsEmpty: expectedRecords == 0, directory: directory, queue: queue, stop: stopWorkers)
        if let listing, !listingDone { startLister(listing, queue: queue, stop: stopWorkers) }

        var index = 0
        while let outcome = try queue.wait(for: index, cancellation: cancellation) {
            defer { index += 1 }
            guard case let .ready(descriptor, records, _, empty) = outcome else {
                if case let .failed(error) = outcome { throw error }
                continue
            }
            defer {
                close(descriptor)
                queue.markLoaded(index)
            }
            summary.pages += 1
            summary.records += records
            try Self.checkRecordTotal(summary.records, afterPage: index + 1, of: jobId, expected: expectedRecords)
            if empty { continue }
            summary.bytes += try replay(
                page: index + 1, from: descriptor, records: records, buffer: buffer, into: consumer)
        }
        summary.peakPagesInFlight = queue.peakInFlight
        summary.peakSpooledBytes = queue.peakSpooledBytes
        logDownloaded(summary, of: jobId, evictions: queue.evictions)
        return summary
    }

    private func logDownloaded(_ summary: DownloadSummary, of jobId: String, evictions: Int) {
        logger.debug(
            "Downloaded results in parallel",
            metadata: [
                "sf.job": "\(jobId)", "sf.pages": .stringConvertible(summary.pages), "sf.records": .stringConvertible(summary.records),
                "sf.connections": .stringConvertible(summary.connections),
                "sf.peakInFlight": .stringConvertible(summary.peakPagesInFlight),
                "sf.peakSpooledBytes": .stringConvertible(summary.peakSpooledBytes),
                "sf.spoolEvictions": .stringConvertible(evictions),
            ])
    }

    /// Hands one spooled page to `consumer`; returns its bytes.
    private func replay(
        page number: Int, from descriptor: Int32, records: Int, buffer: UnsafeMutableRawBufferPointer,
        into consumer: some ResultPageConsumer
    ) throws -> Int64 {
        try consumer.beginPage(number)
        do {
            let bytes = try SpoolFile.replay(descriptor: descriptor, buffer: buffer, cancellation: cancellation) {
                try consumer.consume($0)
            }
            try consumer.finishPage(number, recordCount: records)
            return bytes
        } catch {
            // Same rule as the sequential path: no page (COPY) stays open. A consumer that failed has already
            // closed its own page, so this is a no-op there.
            try? consumer.discardPage(number)
            throw error
        }
    }

    /// Reads the rest of `listing` on a thread of its own, adding each answer's links to `queue`.
    private func startLister(_ listing: ResultPageListing, queue: PageSpoolQueue, stop: CancellationFlag) {
        let configuration = configuration
        let session = session
        let logger = logger
        queue.workerStarted()
        let thread = Thread {
            let lister = SalesforceClient(configuration: configuration, cancellation: stop, logger: logger)
            lister.session = session
            do {
                while let more = try listing.next(using: lister) { queue.extend(with: more) }
                queue.endListing()
            } catch {
                queue.endListing(failure: error)
            }
            queue.workerFinished(apiCalls: lister.apiCallCount, connections: lister.connectionsOpened)
        }
        thread.name = "sfpg-listing"
        thread.start()
    }

    private func startWorkers(
        _ count: Int, jobIsEmpty: Bool, directory: String, queue: PageSpoolQueue, stop: CancellationFlag
    ) {
        let configuration = configuration
        let session = session
        let logger = logger
        for _ in 0..<count {
            queue.workerStarted()
            let thread = Thread {
                // A client per thread: clients are not Sendable, and each keeps its own libcurl handle, so each
                // worker holds one connection open for all the pages it fetches.
                let worker = SalesforceClient(configuration: configuration, cancellation: stop, logger: logger)
                worker.session = session
                while let index = queue.claim() {
                    do {
                        let file = try SpoolFile(path: "\(directory)/page-\(index + 1).csv", queue: queue, index: index)
                        let page = try worker.downloadPage(
                            queue.link(index), number: index + 1, jobIsEmpty: jobIsEmpty, into: file)
                        queue.complete(
                            index,
                            .ready(
                                descriptor: file.takeDescriptor(), records: page.records, bytes: page.bytes,
                                empty: !page.delivered))
                    } catch is PageSpoolQueue.Evicted {
                        logger.debug("Spool budget: page given up for now", metadata: ["sf.page": .stringConvertible(index + 1)])
                        queue.requeue(index)
                    } catch {
                        queue.release(index)
                        queue.complete(index, .failed(error))
                        queue.stop()
                    }
                }
                queue.workerFinished(apiCalls: worker.apiCallCount, connections: worker.connectionsOpened)
            }
            thread.name = "sfpg-download"
            thread.start()
        }
    }

    /// Removes spool directories left by sfpg processes that no longer exist (killed, crashed) in the spool
    /// location `configuration` resolves to (`spoolDirectory`, else `/tmp`). Every parallel
    /// download does this before it creates its own; a program may also call it once at start.
    public static func removeStaleSpoolDirectories(configuration: SalesforceConfiguration) {
        removeStaleSpoolDirectories(in: spoolBase(configuration.spoolDirectory))
    }

    private static func spoolBase(_ parent: String?) -> String {
        // TMPDIR arrives as `spoolDirectory` from the settings reader: the client reads no environment.
        parent ?? "/tmp"
    }

    /// Creates the private spool directory `sfpg-spool-<pid>-XXXXXX` (mode 0700, by `mkdtemp`) under `parent`,
    /// else `SFPG_SPOOL_DIR`'s (or `TMPDIR`'s) value passed in by the configuration, else `/tmp`.
    ///
    /// The pid in the name lets a later run tell a directory whose process is gone (SIGKILL, crash, power loss)
    /// from one still in use: those of dead processes are removed first (``removeStaleSpoolDirectories(in:)``).
    /// - Parameter setting: the setting that named `parent` (`--spool-dir`, `SFPG_SPOOL_DIR`, `TMPDIR`), for the error.
    /// - Throws: `.configuration` naming the directory and the setting to fix: a setting is wrong, not the network.
    static func makeSpoolDirectory(in parent: String?, setting: String? = nil) throws -> String {
        let base = spoolBase(parent)
        removeStaleSpoolDirectories(in: base)
        var template = Array("\(base)/sfpg-spool-\(getpid())-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw spoolError(base, setting, String(cString: strerror(errno)))
        }
        return String(cString: made)
    }

    static func spoolError(_ base: String, _ setting: String?, _ problem: String) -> SalesforceError {
        let named = setting.map { "\($0) names \(base)" } ?? "\(base) is the default"
        return SalesforceError(
            code: .configuration,
            message: "The spool directory for result pages is unusable (\(named)): \(problem). Point "
                + "\(setting ?? "--spool-dir or SFPG_SPOOL_DIR") at a writable directory with room.")
    }

    /// What a run checks before its first Bulk job (and `sfpg check` with it): a private spool directory can be
    /// created in the configured place, which has room for the spool budget or 64 MiB, whichever is less, so a
    /// multi-page download does not fail half-way.
    /// - Returns: the directory and its free space, for a report line.
    /// - Throws: `.configuration` naming the setting that chose the directory.
    public static func checkSpoolDirectory(_ configuration: SalesforceConfiguration) throws -> String {
        let base = spoolBase(configuration.spoolDirectory)
        rmdir(try makeSpoolDirectory(in: base, setting: configuration.spoolDirectorySetting))
        var info = statvfs()
        guard statvfs(base, &info) == 0 else {
            throw spoolError(base, configuration.spoolDirectorySetting, String(cString: strerror(errno)))
        }
        let free = Int64(info.f_bavail) * Int64(info.f_frsize)
        let needed = min(configuration.spoolBudgetBytes, 64 << 20)
        if free < needed {
            throw spoolError(
                base, configuration.spoolDirectorySetting, "\(free >> 20) MiB free, at least \(needed >> 20) MiB needed")
        }
        return "\(base) is writable, \(free >> 20) MiB free"
    }

    /// Removes `sfpg-spool-<pid>-*` directories in `base` that belong to this user and whose process no longer
    /// exists. Spool files are unlinked when created, so such a directory holds at most a file whose unlink did
    /// not happen; it is emptied and removed. Directories of live processes (other runs) are left alone.
    static func removeStaleSpoolDirectories(in base: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: base) else { return }
        for name in names where name.hasPrefix("sfpg-spool-") {
            let parts = name.dropFirst("sfpg-spool-".count).split(separator: "-", maxSplits: 1)
            guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, pid != getpid() else { continue }
            // ESRCH: no such process. EPERM means it exists (another user's): keep.
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            let path = "\(base)/\(name)"
            var info = stat()
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == getuid() else { continue }
            removeSpoolDirectory(path)
        }
    }

    private static func removeSpoolDirectory(_ directory: String) {
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for name in names { unlink("\(directory)/\(name)") }
        }
        rmdir(directory)
    }
}
