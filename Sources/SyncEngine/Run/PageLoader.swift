import Logging
import PostgresLoader
import SalesforceClient

/// Hands each Bulk API result page, as bytes arrive from curl, to one COPY into a staging table (a run's, or a
/// column refresh's).
final class PageLoader: ResultPageConsumer {
    let run: any PageSink
    let progress: ProgressLine?
    let logger: Logger
    private var page: PageWriter?
    private(set) var rows = 0
    /// Pages of the current Bulk job staged by an earlier, killed process: the download numbers the rest from 1,
    /// the run (and its ledger) counts on from here.
    var pageOffset = 0

    init(run: any PageSink, progress: ProgressLine? = nil, logger: Logger) {
        self.run = run
        self.progress = progress
        self.logger = logger
    }

    func beginPage(_ number: Int) throws {
        page = try run.beginPage(number + pageOffset)
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        guard let page else { return }
        do {
            try page.write(bytes)
        } catch {
            // The COPY is still open on the connection: end and roll back this page before anything else runs.
            self.page = nil
            throw run.abort(page, because: error)
        }
        progress?.add(bytes: bytes.count)
    }

    func finishPage(_ number: Int, recordCount: Int) throws {
        guard let page else { return }
        self.page = nil
        let copied = try run.finishPage(page)
        // Salesforce says how many rows the page holds; a mismatch means the body was cut short in a way that
        // still parsed as CSV, which must never be merged as if complete.
        if recordCount != copied {
            throw SyncError("result page \(number + pageOffset) announced \(recordCount) records but \(copied) arrived; the download was incomplete")
        }
        rows += copied
        progress?.add(rows: copied)
        logger.debug("page loaded", metadata: ["batch.page": .stringConvertible(number + pageOffset), "batch.rows": .stringConvertible(copied)])
    }

    func nextLocator(_ locator: String?, afterPage number: Int) {
        (run as? LoadRun)?.noteNextLocator(locator)
    }

    func discardPage(_ number: Int) throws {
        guard let page else { return }
        self.page = nil
        run.discardPage(page)
        logger.info("page discarded for re-fetch", metadata: ["batch.page": .stringConvertible(number)])
    }
}
