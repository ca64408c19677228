import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct CancellationTests {
    @Test func cancelWhilePollingAbortsTheServerJob() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.slowInProgress(polls: 10_000)
        let flag = CancellationFlag()
        let client = emulator.client(cancellation: flag)
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        cancel(flag, after: .milliseconds(300))
        let error = try #require(throws: SalesforceError.self) { try client.waitForCompletion(job.id) }
        #expect(error.code == .cancelled)
        let abort = try #require(emulator.requests("PATCH", containing: job.id).first)
        #expect(abort.status == 200)
        // The job is now Aborted on the server, which a fresh client can see.
        #expect(try emulator.client().queryJob(job.id).state == .aborted)
    }

    @Test func cancelDuringDownloadStopsTheTransfer() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 2_000 }
        let flag = CancellationFlag()
        let client = emulator.client(cancellation: flag)
        let job = try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
        emulator.emulator.faults.setBandwidth(bytesPerSecond: 20_000)
        let consumer = HashingConsumer()
        cancel(flag, after: .milliseconds(400))
        let error = try #require(throws: SalesforceError.self) {
            try client.downloadResults(job.id, maxRecords: nil, expectedRecords: nil, into: consumer)
        }
        #expect(error.code == .cancelled)
        #expect(!consumer.events.contains(.finish(1, 2_000)))
        // The half-received page was discarded before the error came out: no COPY left open.
        #expect(consumer.events.first == .begin(1))
        #expect(consumer.openPages.isEmpty)
        #expect(client.apiCallCount == emulator.emulator.requests.filter { $0.path.hasPrefix("/services/data") }.count)
    }

    @Test func cancelledClientSendsNothing() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let flag = CancellationFlag()
        flag.cancel()
        let error = try #require(throws: SalesforceError.self) { try emulator.client(cancellation: flag).limits() }
        #expect(error.code == .cancelled)
        #expect(emulator.emulator.requests.isEmpty)
    }
}
