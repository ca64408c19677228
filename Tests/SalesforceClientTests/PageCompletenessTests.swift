import Foundation
import SalesforceEmulator
import Testing
import TestSupport

@testable import SalesforceClient

/// Issue #9: a result page is accepted only when it is provably complete, and a broken page or chain never leaves
/// the consumer with an open page.
@Suite(.timeLimit(.minutes(3))) struct PageCompletenessTests {
    enum PageFault: String, CaseIterable, CustomStringConvertible {
        case emptyGzip, cutAfterDelimiter, truncateGzip
        var description: String { rawValue }

        func arm(_ faults: FaultInjector, count: Int) {
            switch self {
            case .emptyGzip: faults.emptyGzipPage(count: count)
            case .cutAfterDelimiter: faults.cutAfterDelimiter(count: count)
            case .truncateGzip: faults.truncateGzip(count: count)
            }
        }
    }

    private func completedJob(_ emulator: TestEmulator, _ client: SalesforceClient) throws -> QueryJob {
        try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
    }

    private func expectedPages(_ emulator: TestEmulator, pageSize: Int) -> [UInt64] {
        emulator.expectedPages("Contact", fields: contactFields, pageSize: pageSize).map(FNV1a.of)
    }

    // MARK: sequential chain

    /// Bug 1: the 10-byte gzip header alone, cleanly framed, decodes to nothing; libcurl called that an empty page
    /// and the chain skipped it although `Sforce-NumberOfRecords` said 100.
    @Test func aGzipBodyOfOnlyItsHeaderIsFetchedAgain() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        emulator.emulator.faults.emptyGzipPage(count: 1)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(job.id, maxRecords: 100, expectedRecords: 250, into: consumer)
        #expect(consumer.pageHashes == expectedPages(emulator, pageSize: 100))
        #expect(consumer.finishedRecords == [100, 100, 50])
        #expect(summary.pages == 3)
        #expect(summary.records == 250)
        // Nothing decoded, so the consumer never saw the broken attempt; the page was requested twice.
        #expect(consumer.discards == 0)
        let firstPage = emulator.requests("GET", containing: "/results").filter { !$0.query.contains("locator") }
        #expect(firstPage.count == 2)
    }

    /// Bug 2: `…,"x",` with no last field and no line ending passed the record counter, and the last field would
    /// have been loaded as NULL.
    @Test(arguments: [true, false])
    func aPageCutAfterADelimiterIsDiscardedAndFetchedAgain(compressed: Bool) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) {
            $0.contactCount = 250
            $0.compressResults = compressed
        }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        emulator.emulator.faults.cutAfterDelimiter(count: 1)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(job.id, maxRecords: 100, expectedRecords: 250, into: consumer)
        #expect(consumer.events.prefix(3) == [.begin(1), .discard(1), .begin(1)])
        #expect(consumer.pageHashes == expectedPages(emulator, pageSize: 100))
        #expect(summary.records == 250)
        #expect(consumer.openPages.isEmpty)
        #expect(emulator.requests("GET", containing: "/results").count == 4)
    }

    /// Salesforce may answer uncompressed although asked for gzip: plain bodies load, checked by Content-Length.
    @Test func uncompressedPagesLoad() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) {
            $0.contactCount = 250
            $0.compressResults = false
        }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(job.id, maxRecords: 100, expectedRecords: 250, into: consumer)
        #expect(consumer.pageHashes == expectedPages(emulator, pageSize: 100))
        #expect(summary.bytes == Int64(emulator.expectedPages("Contact", fields: contactFields, pageSize: 100)
            .reduce(0) { $0 + $1.count }))
        #expect(consumer.discards == 0)
    }

    /// Bug 3: when a page's retries run out, the consumer's page must be discarded before the error comes out.
    @Test(arguments: PageFault.allCases)
    func aPageThatStaysIncompleteFailsWithIncompleteResultsAndNoOpenPage(fault: PageFault) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        var configuration = emulator.clientConfiguration()
        configuration.maxRetries = 2
        let client = SalesforceClient(configuration: configuration)
        let job = try completedJob(emulator, client)
        fault.arm(emulator.emulator.faults, count: 100)
        let consumer = HashingConsumer()
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(job.id, maxRecords: 100, expectedRecords: 250, into: consumer)
        }
        #expect(error.code == .incompleteResults)
        #expect(error.message.contains("Result page 1 "))
        #expect(error.message.contains("Gave up after 3 attempts"))
        switch fault {
        case .emptyGzip: #expect(error.message.contains("gzip stream stopped before its end"))
        case .cutAfterDelimiter: #expect(error.message.contains("does not end with a line ending"))
        case .truncateGzip: #expect(error.message.contains("gzip"))
        }
        #expect(consumer.openPages.isEmpty)
        #expect(consumer.finishedRecords.isEmpty)
        #expect(emulator.requests("GET", containing: "/results").count == 3)
    }

    /// The message names the numbers: the records that arrived against those `Sforce-NumberOfRecords` announced.
    @Test func theIncompleteResultsMessageNamesTheNumbers() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) {
            $0.contactCount = 250
            $0.compressResults = false
        }
        var configuration = emulator.clientConfiguration()
        configuration.maxRetries = 1
        let client = SalesforceClient(configuration: configuration)
        let job = try completedJob(emulator, client)
        // A plain body: cut after the delimiter on both attempts.
        emulator.emulator.faults.cutAfterDelimiter(count: 5)
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(job.id, maxRecords: 100, expectedRecords: 250, into: HashingConsumer())
        }
        #expect(error.code == .incompleteResults)
        #expect(error.message.contains("99 complete records, Sforce-NumberOfRecords says 100"))
    }

    /// Bug 4: a server that repeats a locator made the client loop forever.
    @Test(arguments: [250, nil] as [Int?])
    func aLocatorThatRepeatsEndsTheDownloadWithAnError(expectedRecords: Int?) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        emulator.emulator.faults.loopLocator(count: 1_000)
        let consumer = HashingConsumer()
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(job.id, maxRecords: 100, expectedRecords: expectedRecords, into: consumer)
        }
        #expect(error.code == .incompleteResults)
        #expect(error.message.contains("already sent"))
        #expect(consumer.openPages.isEmpty)
        #expect(emulator.requests("GET", containing: "/results").count == 2)
    }

    @Test func aResultPagesListingThatPointsAtItselfIsRefused() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        emulator.emulator.faults.loopLocator(count: 1_000)
        let error = try #require(throws: SalesforceError.self) {
            try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 250)
        }
        #expect(error.code == .incompleteResults)
        #expect(emulator.requests("GET", containing: "/resultPages").count == 1)
    }

    @Test func moreLinksThanTheJobHasRecordsAreRefused() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        #expect(try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 3)?.count == 3)
        let error = try #require(throws: SalesforceError.self) {
            try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 2)
        }
        #expect(error.code == .incompleteResults)
    }

    /// A chain that ends one page early looks complete page by page; the job's record count catches it.
    @Test(arguments: [100, nil] as [Int?])
    func aChainThatEndsEarlyIsReportedFaithfullyShort(maxRecords: Int?) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        #expect(job.numberRecordsProcessed == 250)
        emulator.emulator.faults.shortTotal(jobs: 1)
        let consumer = HashingConsumer()
        // Page by page the short chain looks complete; the summary reports what really came, and the run's
        // reconciliation (Salesforce's count = Σ pages = staged rows) is where it fails.
        let summary = try client.downloadResults(job.id, maxRecords: maxRecords, expectedRecords: 250, into: consumer)
        #expect(summary.records == (maxRecords == nil ? 249 : 200))
        // Every page that came was complete in itself (two pages of 100, or the single page short by one).
        #expect(consumer.finishedRecords == (maxRecords == nil ? [249] : [100, 100]))
        #expect(consumer.openPages.isEmpty)
    }

    @Test func moreRecordsThanTheJobReportedFail() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(job.id, maxRecords: 100, expectedRecords: 150, into: HashingConsumer())
        }
        #expect(error.code == .incompleteResults)
        #expect(error.message.contains("more records than the job reported"))
    }

    /// A zero-row job's empty body is a complete page of 0 records: counted, but never begun (no empty COPY).
    @Test(arguments: [false, true])
    func aZeroRowJobIsOneEmptyPage(headerOnly: Bool) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) {
            $0.contactCount = 20
            $0.headerOnlyForEmptyResults = headerOnly
        }
        let client = emulator.client()
        let job = try client.waitForCompletion(
            try client.createQueryJob(contactSOQL + " WHERE LastName = 'no such name'", operation: .query).id)
        #expect(job.numberRecordsProcessed == 0)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(job.id, maxRecords: nil, expectedRecords: 0, into: consumer)
        #expect(summary.pages == 1)
        #expect(summary.records == 0)
        #expect(consumer.events == (headerOnly ? [.begin(1), .finish(1, 0)] : []))
    }

    // MARK: parallel download

    @Test(arguments: [1, 4], [PageFault.emptyGzip, .cutAfterDelimiter])
    func parallelPagesThatArriveIncompleteAreFetchedAgain(connections: Int, fault: PageFault) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 1_000 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 1_000))
        fault.arm(emulator.emulator.faults, count: 3)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(
            job.id, links: links, expectedRecords: 1_000, connections: connections, maxPagesInFlight: 4, into: consumer)
        #expect(consumer.pageHashes == expectedPages(emulator, pageSize: 100))
        #expect(consumer.finishedRecords == Array(repeating: 100, count: 10))
        #expect(summary.records == 1_000)
        // The broken attempts were redone in the spool files; the loader only saw complete pages.
        #expect(consumer.discards == 0)
        #expect(emulator.requests("GET", containing: "/results").count == 13)
    }

    @Test(arguments: [1, 4])
    func aParallelPageThatStaysIncompleteFailsWithNoOpenPage(connections: Int) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 1_000 }
        var configuration = emulator.clientConfiguration()
        configuration.maxRetries = 1
        let client = SalesforceClient(configuration: configuration)
        let job = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 1_000))
        emulator.emulator.faults.emptyGzipPage(count: 1_000)
        let spool = try TemporaryDirectory()
        let consumer = HashingConsumer()
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(
                job.id, links: links, expectedRecords: 1_000, connections: connections, maxPagesInFlight: 4,
                spoolDirectory: spool.path, into: consumer)
        }
        #expect(error.code == .incompleteResults)
        #expect(error.message.contains("Sforce-NumberOfRecords") || error.message.contains("gzip"))
        #expect(consumer.openPages.isEmpty)
        #expect(consumer.finishedRecords.isEmpty)
        #expect((try? FileManager.default.contentsOfDirectory(atPath: spool.path))?.isEmpty == true)
    }

    @Test(arguments: [1, 4])
    func aParallelListingOneLinkShortIsReportedFaithfullyShort(connections: Int) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 1_000 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        emulator.emulator.faults.shortTotal(jobs: 1)
        let links = try #require(try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 1_000))
        #expect(links.count == 9)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(
            job.id, links: links, expectedRecords: 1_000, connections: connections, maxPagesInFlight: 4, into: consumer)
        #expect(summary.records == 900)
        #expect(summary.pages == 9)
        #expect(consumer.openPages.isEmpty)
    }

    @Test func parallelPagesWithMoreRecordsThanTheJobReportedFail() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 1_000 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 1_000))
        let consumer = HashingConsumer()
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(
                job.id, links: links, expectedRecords: 550, connections: 2, maxPagesInFlight: 2, into: consumer)
        }
        #expect(error.code == .incompleteResults)
        #expect(consumer.finishedRecords == [100, 100, 100, 100, 100])
        #expect(consumer.openPages.isEmpty)
    }

    /// Bug 3 in the replay loop: a replay that fails after `beginPage` (here cancellation) discards the page.
    @Test func aParallelReplayCancelledMidPageDiscardsIt() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 600 }
        let flag = CancellationFlag()
        let client = emulator.client(cancellation: flag)
        let job = try completedJob(emulator, client)
        let links = try #require(try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 600))
        let consumer = CancellingConsumer(flag: flag, onPage: 2)
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(
                job.id, links: links, expectedRecords: 600, connections: 2, maxPagesInFlight: 2, into: consumer)
        }
        #expect(error.code == .cancelled)
        #expect(consumer.inner.events.suffix(2) == [.begin(2), .discard(2)])
        #expect(consumer.inner.openPages.isEmpty)
    }

    // MARK: decoding

    /// The decoder streams: a page of about 1 MB reaches the consumer in pieces no larger than its 256 KiB buffer.
    @Test func aLargePageIsDecodedInBoundedPieces() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 10_000 }
        let client = emulator.client()
        let job = try completedJob(emulator, client)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(job.id, maxRecords: nil, expectedRecords: 10_000, into: consumer)
        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: 50_000)
        #expect(summary.pages == 1)
        #expect(consumer.pageHashes == expected.map(FNV1a.of))
        #expect(expected[0].count > 3 * 256 * 1024)
        #expect(consumer.largestChunk <= 256 * 1024)
        #expect(consumer.consumeCalls >= 4)
    }

    @Test func concatenatedGzipMembersDecodeAndEnd() throws {
        let first = try gzip(Array("\"Id\"\n\"a\"\n".utf8))
        let second = try gzip(Array("\"b\"\n".utf8))
        let inflater = try GzipInflater()
        var decoded: [UInt8] = []
        // One byte at a time: the member boundary falls inside a write, as it may with curl.
        for byte in first + second {
            try [byte].withUnsafeBytes { try inflater.feed($0) { decoded += $0 } }
        }
        #expect(String(decoding: decoded, as: UTF8.self) == "\"Id\"\n\"a\"\n\"b\"\n")
        #expect(inflater.ended)
    }

    @Test func gzipWithTrailingGarbageOrMissingTrailerIsRejected() throws {
        let member = try gzip(Array("\"Id\"\n\"a\"\n".utf8))
        let garbage = try GzipInflater()
        #expect(throws: GzipInflater.Failure.self) {
            try (member + Array("junk".utf8)).withUnsafeBytes { try garbage.feed($0) { _ in } }
        }
        let cut = try GzipInflater()
        try member.dropLast(4).withUnsafeBytes { try cut.feed(UnsafeRawBufferPointer($0)) { _ in } }
        #expect(!cut.ended)
    }

    @Test func theRecordCounterNeedsTheLastLineEnding() {
        func problem(_ text: String, announced: Int?) -> String? {
            var counter = CSVRecordCounter()
            Array(text.utf8).withUnsafeBytes { counter.add($0) }
            return counter.problem(announced: announced, jobIsEmpty: false)
        }
        #expect(problem("\"Id\",\"Name\"\n\"1\",\"x\"\n", announced: 1) == nil)
        #expect(problem("\"Id\",\"Name\"\r\n\"1\",\"x\"\r\n", announced: 1) == nil)
        #expect(problem("\"Id\",\"Name\"\n\"1\",\"a\nb\"\n", announced: 1) == nil)
        #expect(problem("\"Id\",\"Name\"\n\"1\",\"x\",", announced: 1) != nil)
        #expect(problem("\"Id\",\"Name\"\n\"1\",\"x\"", announced: nil) != nil)
        #expect(problem("\"Id\",\"Name\"\n\"1\",\"x\n", announced: 1) != nil)
        #expect(problem("\"Id\",\"Name\"\n\"1\",\"x\"\n", announced: 2) != nil)
        #expect(problem("", announced: 0) == nil)
        #expect(problem("", announced: 2) != nil)
        #expect(problem("", announced: nil) != nil)
    }

    private func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try TestSyncProcess.check("/usr/bin/gzip", ["-c", "-n"], input: bytes)
    }
}

/// Cancels the download once page `onPage` has begun, so its replay fails half-way.
final class CancellingConsumer: ResultPageConsumer {
    let inner = HashingConsumer()
    let flag: CancellationFlag
    let onPage: Int

    init(flag: CancellationFlag, onPage: Int) {
        self.flag = flag
        self.onPage = onPage
    }

    func beginPage(_ number: Int) throws {
        try inner.beginPage(number)
        if number == onPage { flag.cancel() }
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws { try inner.consume(bytes) }
    func finishPage(_ number: Int, recordCount: Int) throws { try inner.finishPage(number, recordCount: recordCount) }
    func discardPage(_ number: Int) throws { try inner.discardPage(number) }
}
