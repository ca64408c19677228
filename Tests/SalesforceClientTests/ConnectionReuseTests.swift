import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// Connection reuse against the real emulator and real libcurl: the emulator numbers every TCP connection it
/// accepts and tags each request with the one that carried it, so these tests see what went over the wire.
@Suite(.timeLimit(.minutes(2))) struct ConnectionReuseTests {
    /// 30 pages of 50: enough requests that "one connection per request" and "one per thread" cannot be confused.
    private static let contacts = 1_500
    private static let pageSize = 50

    private func emulator(tls: Bool) throws -> TestEmulator {
        try TestEmulator(jobProcessingDelay: clientJobDelay) {
            $0.contactCount = Self.contacts
            $0.tls = tls
        }
    }

    private func client(_ emulator: TestEmulator) -> SalesforceClient {
        var configuration = emulator.clientConfiguration()
        configuration.caBundlePath = emulator.emulator.caCertificatePath
        return SalesforceClient(configuration: configuration)
    }

    @Test("the sequential chain sends token, job, polls, every page and the delete over one connection",
          arguments: [false, true])
    func sequentialRunUsesOneConnection(tls: Bool) throws {
        let emulator = try emulator(tls: tls)
        let client = client(emulator)
        let before = emulator.emulator.acceptedConnections

        let job = try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(
            job.id, maxRecords: Self.pageSize, expectedRecords: job.numberRecordsProcessed, into: consumer)
        try client.deleteJob(job.id)

        let requests = emulator.emulator.requests
        #expect(summary.pages == Self.contacts / Self.pageSize)
        #expect(requests.count >= summary.pages + 4)
        #expect(emulator.emulator.acceptedConnections - before == 1)
        #expect(Set(requests.map(\.connection)).count == 1)
        #expect(client.connectionsOpened == 1)
        #expect(consumer.pageHashes
            == emulator.expectedPages("Contact", fields: contactFields, pageSize: Self.pageSize).map(FNV1a.of))
        // Nothing of one request leaks into the next on the shared handle: only pages ask for gzip, and the
        // method of each is its own (the POST's body does not turn the polls after it into POSTs).
        for request in requests {
            let isPage = request.path.hasSuffix("/results")
            #expect(request.acceptEncoding == (isPage ? "gzip" : nil), "\(request.method) \(request.path)")
        }
        #expect(requests.filter { $0.method == "POST" }.map(\.path).allSatisfy {
            $0.hasSuffix("/oauth2/token") || $0.hasSuffix("/jobs/query")
        })
        #expect(requests.last?.method == "DELETE")
    }

    @Test("the parallel download opens one connection per worker, not one per page", arguments: [false, true])
    func parallelDownloadUsesOneConnectionPerWorker(tls: Bool) throws {
        let emulator = try emulator(tls: tls)
        let client = client(emulator)
        let before = emulator.emulator.acceptedConnections
        let workers = 4

        let job = try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
        let links = try #require(
            try client.resultPageLinks(job.id, maxRecords: Self.pageSize, expectedRecords: job.numberRecordsProcessed))
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(
            job.id, links: links, expectedRecords: job.numberRecordsProcessed, connections: workers,
            maxPagesInFlight: 8, into: consumer)
        try client.deleteJob(job.id)

        #expect(summary.pages == Self.contacts / Self.pageSize)
        let opened = emulator.emulator.acceptedConnections - before
        // The calling thread's one, plus one per worker.
        #expect(opened <= workers + 1, "\(opened) connections for \(emulator.emulator.requests.count) requests")
        #expect(client.connectionsOpened == opened)
        let pageConnections = Set(emulator.requests("GET", containing: "/results").map(\.connection))
        #expect(pageConnections.count <= workers)
        #expect(consumer.pageHashes
            == emulator.expectedPages("Contact", fields: contactFields, pageSize: Self.pageSize).map(FNV1a.of))
    }

    enum PageFault: String, CaseIterable, Sendable {
        /// RST in the middle of the body: a transport error.
        case reset
        /// A gzip stream that stops early inside a well-framed response: libcurl would happily reuse the connection.
        case truncateGzip
        /// A complete, well-framed body whose last record is cut: only the record count tells.
        case cutAfterDelimiter
        /// A 503 in place of the page.
        case serverError

        func arm(_ faults: FaultInjector) {
            switch self {
            case .reset: faults.resetConnectionMidBody(count: 1)
            case .truncateGzip: faults.truncateGzip(count: 1)
            case .cutAfterDelimiter: faults.cutAfterDelimiter(count: 1)
            case .serverError:
                faults.failRequests(status: 503, count: 1, afterRequests: 0, pathContains: "/results", body: nil)
            }
        }
    }

    @Test("a page that fails is fetched again on a new connection, and the results are still exact",
          arguments: PageFault.allCases, [false, true])
    func failedPageIsRetriedOnAFreshConnection(fault: PageFault, parallel: Bool) throws {
        let emulator = try emulator(tls: false)
        let client = client(emulator)
        let job = try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: Self.pageSize)
        let consumer = HashingConsumer()
        fault.arm(emulator.emulator.faults)
        if parallel {
            let links = try #require(
                try client.resultPageLinks(
                    job.id, maxRecords: Self.pageSize, expectedRecords: job.numberRecordsProcessed))
            _ = try client.downloadResults(
                job.id, links: links, expectedRecords: job.numberRecordsProcessed, connections: 2, maxPagesInFlight: 4,
                into: consumer)
        } else {
            _ = try client.downloadResults(
                job.id, maxRecords: Self.pageSize, expectedRecords: job.numberRecordsProcessed, into: consumer)
        }

        #expect(consumer.pageHashes == expected.map(FNV1a.of))
        #expect(consumer.openPages.isEmpty)
        // The same page asked twice: the second time on a connection opened after the first attempt.
        let pages = emulator.requests("GET", containing: "/results")
        #expect(pages.count == expected.count + 1)
        let repeated = pages.indices.filter { index in pages[..<index].contains { $0.query == pages[index].query } }
        let retry = try #require(repeated.first.map { pages[$0] }, "no page was fetched twice")
        let first = try #require(pages.first { $0.query == retry.query })
        #expect(retry.connection != first.connection)
        let all = emulator.emulator.requests
        let retryIndex = try #require(all.firstIndex { $0 == retry && $0.connection == retry.connection })
        #expect(!all[..<retryIndex].contains { $0.connection == retry.connection },
                "the retry went over a connection that had carried requests before")
    }
}
