import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// `resultPages` is API 58.0+ and its availability on real orgs is UNCONFIRMED (salesforce-api.md §3.5): an org
/// that lacks it must cost nothing but the locator chain, whatever status it answers with.
@Suite(.timeLimit(.minutes(3))) struct ResultPagesFallbackTests {
    @Test(arguments: [400, 404, 405])
    func aListingRefusedWithAClientErrorFallsBackToTheLocatorChain(status: Int) throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 250 }
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        _ = try client.waitForCompletion(job.id)
        emulator.emulator.faults.failRequests(
            status: status, count: 1, pathContains: "/resultPages",
            body: #"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#)
        #expect(try client.resultPageLinks(job.id, maxRecords: 100, expectedRecords: 250) == nil)
        let consumer = HashingConsumer()
        let summary = try client.downloadResults(job.id, maxRecords: 100, expectedRecords: 250, into: consumer)
        #expect(summary.records == 250)
        #expect(consumer.pageHashes == emulator.expectedPages("Contact", fields: contactFields, pageSize: 100).map(FNV1a.of))
    }

    @Test func belowAPI58TheListingIsNotAskedFor() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 50 }
        var configuration = emulator.clientConfiguration()
        configuration.apiVersion = "57.0"
        let client = SalesforceClient(configuration: configuration)
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        _ = try client.waitForCompletion(job.id)
        #expect(try client.resultPageLinks(job.id, expectedRecords: 50) == nil)
        #expect(emulator.requests("GET", containing: "/resultPages").isEmpty)
    }
}
