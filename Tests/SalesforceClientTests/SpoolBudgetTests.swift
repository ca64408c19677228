import Foundation
import SalesforceEmulator
import Testing
import TestSupport

@testable import SalesforceClient

/// Issue #10, finding 5: the parallel download's spool is bounded in bytes, lives in a private 0700 directory
/// named after the process, and a directory left by a killed process is removed by the next run.
@Suite(.timeLimit(.minutes(3))) struct SpoolBudgetTests {
    private func completedJob(_ client: SalesforceClient) throws -> String {
        try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id).id
    }

    /// Downloads 2,000 Contacts in pages of 200 over 4 connections with a spool budget of `budgetFactor` times the
    /// largest page; checks the pages and returns the summary and the largest page.
    private func download(budgetFactor: Double, connections: Int = 4) throws -> (DownloadSummary, Int64, Int64) {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 2_000 }
        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: 200)
        let largest = Int64(expected.map(\.count).max() ?? 0)
        var configuration = emulator.clientConfiguration()
        configuration.spoolBudgetBytes = Int64(Double(largest) * budgetFactor)
        let client = SalesforceClient(configuration: configuration)
        let jobId = try completedJob(client)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 200, expectedRecords: 2_000))
        let spool = try TemporaryDirectory()
        let consumer = SpoolWatchingConsumer(spoolParent: spool.path)
        consumer.delayPerPage = 0.03  // a slow loader, so the workers run into the budget
        let summary = try client.downloadResults(
            jobId, links: links, expectedRecords: 2_000, connections: connections, maxPagesInFlight: 8,
            spoolDirectory: spool.path, into: consumer)
        #expect(consumer.inner.pageHashes == expected.map(FNV1a.of))
        #expect(summary.records == 2_000)
        #expect(consumer.inner.openPages.isEmpty)
        #expect(consumer.mostSpoolFiles <= 1)
        #expect(consumer.spoolModes == [0o700])
        #expect((try? FileManager.default.contentsOfDirectory(atPath: spool.path)) == [])
        return (summary, configuration.spoolBudgetBytes, largest)
    }

    @Test func theSpooledBytesStayWithinTheBudget() throws {
        // Pages larger than half the budget: at most one fits, so the workers must wait (or give pages up).
        let (summary, budget, largest) = try download(budgetFactor: 1.6)
        #expect(summary.peakSpooledBytes <= budget, "peak \(summary.peakSpooledBytes) > budget \(budget)")
        #expect(summary.peakSpooledBytes >= largest)
    }

    @Test func aRoomierBudgetLetsSeveralPagesWait() throws {
        let (summary, budget, largest) = try download(budgetFactor: 4.5)
        #expect(summary.peakSpooledBytes <= budget)
        #expect(summary.peakSpooledBytes > largest)
    }

    @Test func aPageLargerThanTheBudgetStillProceedsAlone() throws {
        let (summary, _, largest) = try download(budgetFactor: 0.5)
        // Alone: never more than that one page on disk.
        #expect(summary.peakSpooledBytes <= largest)
    }

    @Test func theBudgetComesFromTheEnvironmentAndTheDirectoryFromSFPGSpoolDir() throws {
        var environment = [
            "SF_LOGIN_URL": "https://login.salesforce.com", "SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "secret",
        ]
        let defaults = try SalesforceConfiguration.fromEnvironment(environment)
        #expect(defaults.spoolBudgetBytes == 1 << 30)
        #expect(defaults.spoolDirectory == nil)
        environment["SF_SPOOL_MAX_BYTES"] = "512M"
        environment["SFPG_SPOOL_DIR"] = "/var/tmp/sfpg"
        let configured = try SalesforceConfiguration.fromEnvironment(environment)
        #expect(configured.spoolBudgetBytes == 512 << 20)
        #expect(configured.spoolDirectory == "/var/tmp/sfpg")
        #expect(try SalesforceConfiguration.parseByteCount("2GiB", variable: "X") == 2 << 30)
        #expect(try SalesforceConfiguration.parseByteCount("1048576", variable: "X") == 1 << 20)
        for bad in ["0", "-5", "lots", "1.5G"] {
            environment["SF_SPOOL_MAX_BYTES"] = bad
            let error = try #require(throws: SalesforceError.self) { try SalesforceConfiguration.fromEnvironment(environment) }
            #expect(error.message.contains("SF_SPOOL_MAX_BYTES"))
        }
    }

    @Test func theConfiguredSpoolDirectoryIsUsed() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 400 }
        let spool = try TemporaryDirectory()
        var configuration = emulator.clientConfiguration()
        configuration.spoolDirectory = spool.path
        let client = SalesforceClient(configuration: configuration)
        let jobId = try completedJob(client)
        let links = try #require(try client.resultPageLinks(jobId, maxRecords: 100, expectedRecords: 400))
        let consumer = SpoolWatchingConsumer(spoolParent: spool.path)
        _ = try client.downloadResults(
            jobId, links: links, expectedRecords: 400, connections: 2, maxPagesInFlight: 2, into: consumer)
        #expect(consumer.spoolDirectories.count == 1)
        #expect(consumer.spoolModes == [0o700])
    }

    @Test func aSpoolFileHasNoNameOnceCreatedAndIsReadThroughItsDescriptor() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/page-1.csv"
        let file = try SpoolFile(path: path)
        #expect(!FileManager.default.fileExists(atPath: path))
        try file.beginPage(1)
        try Array("\"Id\"\n\"001\"\n".utf8).withUnsafeBytes { try file.consume($0) }
        let descriptor = file.takeDescriptor()
        defer { close(descriptor) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4, alignment: 1)
        defer { buffer.deallocate() }
        var replayed: [UInt8] = []
        let count = try SpoolFile.replay(descriptor: descriptor, buffer: buffer, cancellation: CancellationFlag()) {
            replayed += $0
        }
        #expect(count == 11)
        #expect(String(decoding: replayed, as: UTF8.self) == "\"Id\"\n\"001\"\n")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) == [])
    }

    @Test func staleSpoolDirectoriesOfDeadProcessesAreRemoved() throws {
        let parent = try TemporaryDirectory()
        // A pid that certainly existed and is gone: a child that has exited and been reaped.
        let child = try TestSyncProcess("/bin/true", [], environment: [:])
        child.wait()
        let dead = child.pid
        let stale = parent.path + "/sfpg-spool-\(dead)-AbC123"
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
        try "leftover page".write(toFile: stale + "/page-1.csv", atomically: false, encoding: .utf8)
        // A live process's directory (ours, as a stand-in for a concurrent run) and unrelated names stay.
        let live = parent.path + "/sfpg-spool-\(getppid())-XyZ789"
        let unrelated = parent.path + "/sfpg-spool-notapid"
        for path in [live, unrelated] { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }

        let made = try SalesforceClient.makeSpoolDirectory(in: parent.path)
        defer { rmdir(made) }
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
        #expect(FileManager.default.fileExists(atPath: unrelated))
        #expect(made.hasPrefix(parent.path + "/sfpg-spool-\(getpid())-"))
        var info = stat()
        #expect(stat(made, &info) == 0 && info.st_mode & 0o777 == 0o700)

        // The same clean-up on its own, for a program's start.
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: false)
        var configuration = SalesforceConfiguration(loginURL: "https://login.salesforce.com", grant: .clientCredentials(clientId: "c", clientSecret: "s"))
        configuration.spoolDirectory = parent.path
        SalesforceClient.removeStaleSpoolDirectories(configuration: configuration)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: made))
    }
}

/// The queue alone, under many threads and random page sizes: every page arrives in order, no deadlock, and the
/// spooled bytes never exceed the budget (all pages here are smaller than it).
@Suite(.timeLimit(.minutes(3))) struct PageSpoolQueueStressTests {
    /// Seeds 1–5 with the default write wait; 6–8 give a waiting page up after 1 ms, so pages are given up and
    /// fetched again all the time.
    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8])
    func randomPagesNeverExceedTheBudget(seed: Int) throws {
        var rng = SplitMix(seed: UInt64(seed))
        let sizes = (0..<60).map { _ in Int64(100 + rng.next() % 900) }
        let budget: Int64 = 1_500
        let queue = PageSpoolQueue(
            count: sizes.count, limit: 6, budget: budget, maxWriteWait: seed > 5 ? .milliseconds(1) : .seconds(10))
        let stop = CancellationFlag()
        for _ in 0..<4 {
            queue.workerStarted()
            Thread.detachNewThread {
                while let index = queue.claim() {
                    var written: Int64 = 0
                    do {
                        while written < sizes[index] {
                            let chunk = min(50, sizes[index] - written)
                            try queue.charge(index, chunk)
                            written += chunk
                            if written % 200 == 0 { Thread.sleep(forTimeInterval: 0.0005) }
                        }
                        queue.complete(index, .ready(descriptor: open("/dev/null", O_RDONLY), records: 1, bytes: written, empty: false))
                    } catch is PageSpoolQueue.Evicted {
                        queue.requeue(index)
                    } catch {
                        queue.complete(index, .failed(error))
                    }
                }
                queue.workerFinished(apiCalls: 0)
            }
        }
        for index in sizes.indices {
            guard case let .ready(descriptor, _, bytes, _) = try queue.wait(for: index, cancellation: stop) else {
                Issue.record("page \(index) failed")
                break
            }
            #expect(bytes == sizes[index])
            if index % 7 == 0 { Thread.sleep(forTimeInterval: 0.002) }
            close(descriptor)
            queue.markLoaded(index)
        }
        queue.stop()
        queue.waitForWorkers()
        queue.closeUnloaded()
        #expect(queue.peakSpooledBytes <= budget)
        #expect(queue.peakSpooledBytes >= sizes.max()!)
    }
}

/// A small deterministic generator, so a failing seed can be rerun.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
