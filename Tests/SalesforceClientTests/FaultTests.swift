import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct FaultTests {
    /// Creates a job and waits for it, returning the client and job id.
    private func completedJob(_ emulator: TestEmulator) throws -> (SalesforceClient, String) {
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        _ = try client.waitForCompletion(job.id)
        return (client, job.id)
    }

    private func expectCompleteDownload(
        _ client: SalesforceClient, _ jobId: String, _ emulator: TestEmulator, consumer: HashingConsumer
    ) throws {
        let records = emulator.emulator.org.ids("Contact", includeDeleted: false).count
        let summary = try client.downloadResults(jobId, maxRecords: 100, expectedRecords: records, into: consumer)
        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: 100)
        #expect(summary.pages == expected.count)
        #expect(consumer.pageHashes == expected.map(FNV1a.of))
        #expect(summary.records == records)
        #expect(consumer.openPages.isEmpty)
    }

    @Test func serverErrorsAreRetried() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        emulator.emulator.faults.failRequests(status: 500, count: 2, afterRequests: 1, pathContains: "/jobs/query")
        let (client, jobId) = try completedJob(emulator)
        let consumer = HashingConsumer()
        try expectCompleteDownload(client, jobId, emulator, consumer: consumer)
        #expect(emulator.emulator.requests.filter { $0.status == 500 }.count == 2)
    }

    @Test(arguments: [406, 420, 429, 503])
    func throttlingStatusesAreRetried(status: Int) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 10 }
        emulator.emulator.faults.failRequests(status: status, count: 1, pathContains: "/results", body: "")
        let (client, jobId) = try completedJob(emulator)
        try expectCompleteDownload(client, jobId, emulator, consumer: HashingConsumer())
        #expect(emulator.requests("GET", containing: "/results").map(\.status) == [status, 200])
    }

    @Test func retriesAreBounded() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.failRequests(status: 503, count: 100, pathContains: "/limits")
        var configuration = emulator.clientConfiguration()
        configuration.maxRetries = 2
        let error = try #require(throws: SalesforceError.self) {
            try SalesforceClient(configuration: configuration).limits()
        }
        #expect(error.code == .http)
        #expect(error.httpStatus == 503)
        #expect(emulator.requests("GET", containing: "/limits").count == 3)
    }

    @Test func resetMidPageDiscardsAndRefetchesThePage() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let (client, jobId) = try completedJob(emulator)
        emulator.emulator.faults.resetConnectionMidBody(count: 1, afterBytes: 2_000)
        let consumer = HashingConsumer()
        try expectCompleteDownload(client, jobId, emulator, consumer: consumer)
        #expect(consumer.events.prefix(3) == [.begin(1), .discard(1), .begin(1)])
        #expect(consumer.discards == 1)
        let firstPage = emulator.requests("GET", containing: "/results").filter { !$0.query.contains("locator") }
        #expect(firstPage.count == 2)
    }

    @Test func truncatedGzipIsRefetched() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let (client, jobId) = try completedJob(emulator)
        emulator.emulator.faults.truncateGzip(count: 1)
        let consumer = HashingConsumer()
        try expectCompleteDownload(client, jobId, emulator, consumer: consumer)
        #expect(consumer.discards == 1)
        #expect(emulator.requests("GET", containing: "/results").count == 4)
    }

    @Test func failedJobReportsSalesforcesMessage() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.failJobs(count: 1, errorMessage: "QUERY_TIMEOUT: query ran too long")
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        let error = try #require(throws: SalesforceError.self) { try client.waitForCompletion(job.id) }
        #expect(error.code == .jobFailed)
        #expect(error.message.contains("QUERY_TIMEOUT: query ran too long"))
        #expect(error.message.contains(job.id))
    }

    /// The emulator, like Salesforce, now always gives a Failed job an `errorMessage` (issue #11); a fault without a
    /// message gets Salesforce's retry-exhaustion text, which the client passes on.
    @Test func failedJobWithoutAFaultMessageCarriesSalesforcesReason() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.failJobs(count: 1, errorMessage: nil)
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        let error = try #require(throws: SalesforceError.self) { try client.waitForCompletion(job.id) }
        #expect(error.code == .jobFailed)
        #expect(error.message.contains("Retried more than 15 times"))
        #expect(error.message.contains(job.id))
    }

    @Test func requestLimitExceededIsNeverRetried() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.exceedRequestLimit(count: 5)
        let client = emulator.client()
        let error = try #require(throws: SalesforceError.self) {
            try client.createQueryJob(contactSOQL, operation: .query)
        }
        #expect(error.code == .requestLimitExceeded)
        #expect(error.errorCode == "REQUEST_LIMIT_EXCEEDED")
        #expect(error.httpStatus == 403)
        #expect(client.apiCallCount == 1)
        #expect(emulator.requests("POST", containing: "/jobs/query").count == 1)
    }

    @Test func expiredSessionReauthenticatesOnceAndContinues() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let (client, jobId) = try completedJob(emulator)
        emulator.emulator.faults.expireTokens(afterAPICalls: 1)
        try expectCompleteDownload(client, jobId, emulator, consumer: HashingConsumer())
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").count == 2)
        #expect(emulator.emulator.requests.contains { $0.status == 401 })
    }

    @Test func slowInProgressKeepsPolling() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.slowInProgress(polls: 6)
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        let done = try client.waitForCompletion(job.id)
        #expect(done.state == .jobComplete)
        #expect(emulator.requests("GET", containing: job.id).count >= 7)
    }

    @Test func jobTimeoutAbortsTheJob() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        emulator.emulator.faults.slowInProgress(polls: 1_000)
        var configuration = emulator.clientConfiguration()
        configuration.jobTimeout = .milliseconds(300)
        let client = SalesforceClient(configuration: configuration)
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        let error = try #require(throws: SalesforceError.self) { try client.waitForCompletion(job.id) }
        #expect(error.code == .timeout)
        #expect(emulator.requests("PATCH", containing: job.id).first?.status == 200)
    }
}
