import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// Issue #12 item 3: result pages download while the rest of the `resultPages` listing is still being read.
@Suite(.timeLimit(.minutes(3))) struct StreamingListingTests {
    /// 250 Contacts in pages of 10: 25 pages, listed 5 per answer.
    private func completedJob(_ emulator: TestEmulator, _ client: SalesforceClient) throws -> (id: String, records: Int) {
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        let done = try client.waitForCompletion(job.id)
        return (job.id, done.numberRecordsProcessed ?? -1)
    }

    @Test func pagesDownloadWhileTheListingIsStillBeingRead() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        var configuration = emulator.clientConfiguration()
        // The third listing answer fails once; its retry waits long enough that the first answer's pages are
        // downloading by then, if the download does not wait for the whole listing.
        configuration.retryBaseDelay = .milliseconds(600)
        configuration.retryMaxDelay = .milliseconds(600)
        let client = SalesforceClient(configuration: configuration, cancellation: CancellationFlag())
        let job = try completedJob(emulator, client)
        emulator.emulator.faults.failRequests(status: 503, count: 1, afterRequests: 2, pathContains: "/resultPages")

        let listing = ResultPageListing(jobId: job.id, maxRecords: 10, expectedRecords: job.records)
        let first = try #require(try listing.next(using: client))
        #expect(first.count == 5)
        #expect(!listing.isDone)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(
            job.id, links: first, listing: listing, expectedRecords: job.records, connections: 3, maxPagesInFlight: 6,
            into: consumer)

        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: 10)
        #expect(summary.pages == 25)
        #expect(summary.records == 250)
        #expect(consumer.pageHashes == expected.map(FNV1a.of))
        #expect(consumer.openPages.isEmpty)
        let log = emulator.emulator.requests.filter { $0.method == "GET" }
        let firstPage = try #require(log.firstIndex { $0.path.hasSuffix("/results") })
        let lastListing = try #require(log.lastIndex { $0.path.hasSuffix("/resultPages") })
        #expect(firstPage < lastListing, "no page was requested before the listing was complete")
        #expect(log.filter { $0.path.hasSuffix("/resultPages") }.count == 6)  // 5 answers, one of them twice
    }

    @Test func aListingThatBreaksOffFailsTheDownloadAfterTheListedPages() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        // Every listing answer after the first is refused: not a "no listing here" 404 (that only counts for the
        // first answer), so the listing is broken and the run must not pass for complete.
        emulator.emulator.faults.failRequests(status: 404, count: 100, afterRequests: 1, pathContains: "/resultPages")
        let listing = ResultPageListing(jobId: job.id, maxRecords: 10, expectedRecords: job.records)
        let first = try #require(try listing.next(using: client))
        let consumer = HashingConsumer()
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(
                job.id, links: first, listing: listing, expectedRecords: job.records, connections: 3,
                maxPagesInFlight: 6, into: consumer)
        }
        #expect(error.httpStatus == 404)
        #expect(consumer.events.filter { if case .finish = $0 { true } else { false } }.count == 5)
        #expect(consumer.openPages.isEmpty)
    }
}
