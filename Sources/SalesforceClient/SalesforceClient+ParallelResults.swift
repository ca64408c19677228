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
    /// any time; memory does not grow with the result size. The spool directory is removed on return, whether the
    /// download succeeded, failed or was cancelled.
    ///
    /// - Parameters:
    ///   - expectedRecords: the job's `numberRecordsProcessed`; when known, the pages must hold exactly that many
    ///     records (more fails as soon as it shows, fewer at the end).
    ///   - connections: worker threads (at least 1).
    ///   - maxPagesInFlight: spooled plus downloading pages not yet consumed; at least `connections` is sensible.
    ///   - spoolDirectory: where the private spool directory is created; default `TMPDIR` or `/tmp`.
    /// - Throws: ``SalesforceError`` (the first failing page's, after its retries; `.incompleteResults` for a page
    ///   that stayed incomplete or a record total that disagrees), or the consumer's error as is.
    public func downloadResults(
        _ jobId: String, links: [String], expectedRecords: Int?, connections: Int, maxPagesInFlight: Int,
        spoolDirectory: String? = nil, into consumer: some ResultPageConsumer
    ) throws -> DownloadSummary {
        try checkCancellation()
        var summary = DownloadSummary(pages: 0, records: 0, bytes: 0)
        let workers = max(1, min(connections, links.count))
        summary.connections = workers
        guard !links.isEmpty else { return summary }
        let directory = try Self.makeSpoolDirectory(in: spoolDirectory)
        let queue = PageSpoolQueue(count: links.count, limit: max(maxPagesInFlight, 1))
        // Workers get their own flag so the loader can stop them without cancelling the whole run.
        let stopWorkers = CancellationFlag()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer {
            queue.stop()
            stopWorkers.cancel()
            queue.waitForWorkers()
            apiCallCount += queue.workerAPICalls
            for path in queue.unloadedPaths() { unlink(path) }
            Self.removeSpoolDirectory(directory)
            buffer.deallocate()
        }
        startWorkers(workers, links: links, jobIsEmpty: expectedRecords == 0, directory: directory, queue: queue,
                     stop: stopWorkers)

        for index in links.indices {
            let outcome = try queue.wait(for: index, cancellation: cancellation)
            guard case let .ready(path, records, _, empty) = outcome else {
                if case let .failed(error) = outcome { throw error }
                continue
            }
            defer {
                unlink(path)
                queue.markLoaded(index)
            }
            let number = index + 1
            summary.pages += 1
            summary.records += records
            if let expectedRecords, summary.records > expectedRecords {
                throw SalesforceError(
                    code: .incompleteResults,
                    message: "The results of job \(jobId) hold more records than the job reported: "
                        + "\(summary.records) after page \(number), numberRecordsProcessed is \(expectedRecords).")
            }
            if empty { continue }
            try consumer.beginPage(number)
            do {
                summary.bytes += try SpoolFile.replay(path, buffer: buffer, cancellation: cancellation) {
                    try consumer.consume($0)
                }
                try consumer.finishPage(number, recordCount: records)
            } catch {
                // Same rule as the sequential path: no page (COPY) stays open. A consumer that failed has already
                // closed its own page, so this is a no-op there.
                try? consumer.discardPage(number)
                throw error
            }
        }
        summary.peakPagesInFlight = queue.peakInFlight
        logger.debug(
            "Downloaded results in parallel",
            metadata: [
                "sf.job": "\(jobId)", "sf.pages": "\(summary.pages)", "sf.records": "\(summary.records)",
                "sf.connections": "\(workers)", "sf.peakInFlight": "\(summary.peakPagesInFlight)",
            ])
        return summary
    }

    private func startWorkers(
        _ count: Int, links: [String], jobIsEmpty: Bool, directory: String, queue: PageSpoolQueue,
        stop: CancellationFlag
    ) {
        let configuration = configuration
        let session = session
        let logger = logger
        for _ in 0..<count {
            queue.workerStarted()
            let thread = Thread {
                // A client per thread: clients are not Sendable, and each needs its own libcurl handle anyway.
                let worker = SalesforceClient(configuration: configuration, cancellation: stop, logger: logger)
                worker.session = session
                while let index = queue.claim() {
                    let path = "\(directory)/page-\(index + 1).csv"
                    do {
                        let file = try SpoolFile(path: path)
                        let page = try worker.downloadPage(
                            links[index], number: index + 1, jobIsEmpty: jobIsEmpty, into: file)
                        queue.complete(
                            index, .ready(path: path, records: page.records, bytes: page.bytes, empty: !page.delivered))
                    } catch {
                        unlink(path)
                        queue.complete(index, .failed(error))
                        queue.stop()
                    }
                }
                queue.workerFinished(apiCalls: worker.apiCallCount)
            }
            thread.name = "sfpg-download"
            thread.start()
        }
    }

    private static func makeSpoolDirectory(in parent: String?) throws -> String {
        let base = parent ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(base)/sfpg-spool-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SalesforceError(
                code: .network,
                message: "Could not create a spool directory in \(base) for parallel result download: "
                    + "\(String(cString: strerror(errno))). Set TMPDIR to a writable directory.")
        }
        return String(cString: made)
    }

    private static func removeSpoolDirectory(_ directory: String) {
        if let names = try? FileManager.default.contentsOfDirectory(atPath: directory) {
            for name in names { unlink("\(directory)/\(name)") }
        }
        rmdir(directory)
    }
}
