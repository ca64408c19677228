import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// Looks at the spool directory from outside each time a page begins: spool files are unlinked when created, so
/// none must ever be visible, and the private directory must be 0700.
final class SpoolWatchingConsumer: ResultPageConsumer {
    let inner = HashingConsumer()
    let spoolParent: String
    var mostSpoolFiles = 0
    var spoolDirectories: Set<String> = []
    var spoolModes: Set<Int> = []
    var delayPerPage: Double = 0

    init(spoolParent: String) { self.spoolParent = spoolParent }

    func beginPage(_ number: Int) throws {
        let files = FileManager.default.enumerator(atPath: spoolParent)?.allObjects.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".csv") } ?? []
        mostSpoolFiles = max(mostSpoolFiles, files.count)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: spoolParent)) ?? []
        where name.hasPrefix("sfpg-spool-") {
            spoolDirectories.insert(name)
            var info = stat()
            if stat(spoolParent + "/" + name, &info) == 0 { spoolModes.insert(Int(info.st_mode & 0o777)) }
        }
        try inner.beginPage(number)
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws { try inner.consume(bytes) }

    func finishPage(_ number: Int, recordCount: Int) throws {
        if delayPerPage > 0 { Thread.sleep(forTimeInterval: delayPerPage) }
        try inner.finishPage(number, recordCount: recordCount)
    }

    func discardPage(_ number: Int) throws { try inner.discardPage(number) }
}

@Suite(.timeLimit(.minutes(3))) struct ParallelDownloadTests {
    func completedJob(_ emulator: TestEmulator, _ client: SalesforceClient) throws -> String {
        try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id).id
    }

    func spoolEntries(_ directory: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? ["<unreadable>"]
    }

    @Test func pagesArriveByteIdenticalAndInOrderWithinTheSpoolBound() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 2_500 }
        let client = emulator.client()
        let jobId = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 200, expectedRecords: nil))
        #expect(links.count == 13)
        let spool = try TemporaryDirectory()
        let consumer = SpoolWatchingConsumer(spoolParent: spool.path)
        consumer.delayPerPage = 0.02  // a slow loader, so the workers run into the bound
        let summary = try client.downloadResults(
            jobId, links: links, expectedRecords: nil, connections: 4, maxPagesInFlight: 3, spoolDirectory: spool.path, into: consumer)

        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: 200)
        #expect(consumer.inner.pageHashes == expected.map(FNV1a.of))
        let order = (1...13).flatMap { n -> [HashingConsumer.Event] in [.begin(n), .finish(n, n == 13 ? 100 : 200)] }
        #expect(consumer.inner.events == order)
        #expect(summary.pages == 13)
        #expect(summary.records == 2_500)
        #expect(summary.bytes == Int64(expected.reduce(0) { $0 + $1.count }))
        #expect(summary.connections == 4)
        #expect(summary.peakPagesInFlight == 3)
        // Unlinked at creation: the pages live behind open descriptors; a name exists only between the open and
        // the unlink that follows it (SpoolBudgetTests checks that directly), so a sample may catch one at most.
        #expect(consumer.mostSpoolFiles <= 1)
        #expect(consumer.spoolDirectories.count == 1)
        #expect(consumer.spoolDirectories.allSatisfy { $0.hasPrefix("sfpg-spool-\(getpid())-") })
        #expect(consumer.spoolModes == [0o700])
        #expect(spoolEntries(spool.path).isEmpty)
        // Every worker request counts toward the client's API calls, like the sequential path's.
        #expect(client.apiCallCount == emulator.emulator.requests.filter { $0.path.hasPrefix("/services/data") }.count)
        #expect(emulator.requests("GET", containing: "/results").count == 13)
    }

    @Test func aPageResetHalfWayIsFetchedAgainAndStillIdentical() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 1_000 }
        let client = emulator.client()
        let jobId = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 100, expectedRecords: nil))
        emulator.emulator.faults.resetConnectionMidBody(count: 2, afterBytes: 2_000)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(jobId, links: links, expectedRecords: nil, connections: 3, maxPagesInFlight: 6, into: consumer)
        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: 100)
        #expect(consumer.pageHashes == expected.map(FNV1a.of))
        #expect(summary.records == 1_000)
        // The loader never saw the broken attempts: they were redone in the spool file.
        #expect(consumer.discards == 0)
        #expect(emulator.requests("GET", containing: "/results").count == 12)
    }

    @Test func cancelMidDownloadStopsEveryWorkerAndRemovesTheSpool() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 3_000 }
        let flag = CancellationFlag()
        let client = emulator.client(cancellation: flag)
        let jobId = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 500, expectedRecords: nil))
        emulator.emulator.faults.setBandwidth(bytesPerSecond: 5_000)
        let spool = try TemporaryDirectory()
        let consumer = HashingConsumer()
        cancel(flag, after: .milliseconds(400))
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(
                jobId, links: links, expectedRecords: nil, connections: 4, maxPagesInFlight: 4, spoolDirectory: spool.path, into: consumer)
        }
        #expect(error.code == .cancelled)
        #expect(consumer.events.count < 12)
        #expect(spoolEntries(spool.path).isEmpty)
    }

    @Test func aConsumerErrorStopsTheDownloadAndRemovesTheSpool() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 600 }
        let client = emulator.client()
        let jobId = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 100, expectedRecords: nil))
        let spool = try TemporaryDirectory()
        let consumer = HashingConsumer()
        consumer.failOnPage = 2
        #expect(throws: (any Error).self) {
            try client.downloadResults(
                jobId, links: links, expectedRecords: nil, connections: 2, maxPagesInFlight: 2, spoolDirectory: spool.path, into: consumer)
        }
        #expect(consumer.events == [.begin(1), .finish(1, 100), .begin(2), .discard(2)])
        #expect(spoolEntries(spool.path).isEmpty)
        // The bound held after the failure too: no more than page 2 plus two in flight were ever requested.
        #expect(emulator.requests("GET", containing: "/results").count <= 4)
    }

    @Test func aPageThatKeepsFailingFailsTheDownloadWithTheServerError() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 400 }
        let client = emulator.client()
        let jobId = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 100, expectedRecords: nil))
        emulator.emulator.faults.failRequests(status: 404, count: 1, pathContains: "/results")
        let spool = try TemporaryDirectory()
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(
                jobId, links: links, expectedRecords: nil, connections: 2, maxPagesInFlight: 2, spoolDirectory: spool.path,
                into: HashingConsumer())
        }
        #expect(error.httpStatus == 404)
        #expect(spoolEntries(spool.path).isEmpty)
    }
}
