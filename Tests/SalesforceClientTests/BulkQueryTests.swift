import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct BulkQueryTests {
    @Test func streamsThreePagesWithAHeaderOnEachAndTheRightBytes() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 2_500 }
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        #expect(job.id.hasPrefix("750"))
        #expect(job.object == "Contact")
        let done = try client.waitForCompletion(job.id)
        #expect(done.state == .jobComplete)
        #expect(done.numberRecordsProcessed == 2_500)

        let consumer = HashingConsumer()
        let summary = try client.downloadResults(job.id, maxRecords: 1_000, expectedRecords: nil, into: consumer)
        let expected = emulator.expectedPages("Contact", fields: contactFields, pageSize: 1_000)
        #expect(summary.pages == 3)
        #expect(summary.records == 2_500)
        #expect(summary.bytes == Int64(expected.reduce(0) { $0 + $1.count }))
        #expect(consumer.pageHashes == expected.map(FNV1a.of))
        #expect(consumer.pageHeaders == Array(repeating: contactFields.map { "\"\($0)\"" }.joined(separator: ","), count: 3))
        #expect(consumer.events == [.begin(1), .finish(1, 1_000), .begin(2), .finish(2, 1_000), .begin(3), .finish(3, 500)])
        // Streaming, not buffering: pieces are at most the decoder's 256 KiB output buffer (see
        // PageCompletenessTests for a page larger than that).
        #expect(consumer.consumeCalls >= 3)
        #expect(consumer.largestChunk <= 256 * 1024)

        let pages = emulator.requests("GET", containing: "/results")
        #expect(pages.count == 3)
        #expect(pages.allSatisfy { $0.acceptEncoding == "gzip" })
        #expect(pages.dropFirst().allSatisfy { $0.query.contains("locator=") })

        try client.deleteJob(job.id)
        #expect(emulator.requests("DELETE", containing: job.id).first?.status == 204)
        #expect(client.apiCallCount == emulator.emulator.requests.filter { $0.path.hasPrefix("/services/data") }.count)
        let usage = try #require(client.lastApiUsage)
        #expect(usage.max == emulator.configuration.dailyApiRequests)
        #expect(usage.used > 0)
    }

    @Test func queryAllIncludesSoftDeletedRows() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 50 }
        let victim = try #require(emulator.emulator.org.ids("Contact", includeDeleted: false).first)
        emulator.emulator.org.softDelete("Contact", id: victim)
        let client = emulator.client()
        let live = try client.waitForCompletion(try client.createQueryJob("SELECT Id FROM Contact", operation: .query).id)
        let all = try client.waitForCompletion(
            try client.createQueryJob("SELECT Id FROM Contact", operation: .queryAll).id)
        #expect(live.numberRecordsProcessed == 49)
        #expect(all.numberRecordsProcessed == 50)
    }

    @Test func rejectedSOQLIsAnInvalidQueryError() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let error = try #require(throws: SalesforceError.self) {
            try emulator.client().createQueryJob("SELECT Id, NoSuchField__c FROM Contact", operation: .query)
        }
        #expect(error.code == .invalidQuery)
        #expect(error.httpStatus == 400)
        #expect(error.errorCode != nil)
        #expect(emulator.requests("POST", containing: "/jobs/query").count == 1)
    }

    @Test func consumerErrorsStopTheDownloadUnchanged() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 300 }
        let client = emulator.client()
        let job = try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
        let consumer = HashingConsumer()
        consumer.failOnPage = 2
        #expect(throws: (any Error).self) { try client.downloadResults(job.id, maxRecords: 100, expectedRecords: nil, into: consumer) }
        // The consumer closed its own page when it failed; the client's discard after it must be a no-op there.
        #expect(consumer.events.suffix(2) == [.begin(2), .discard(2)])
        #expect(consumer.openPages.isEmpty)
        #expect(emulator.requests("GET", containing: "/results").count == 2)
    }

    @Test func resultPageLinksFollowTheNextLinkUntilDone() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) {
            $0.contactCount = 250
            $0.defaultPageSize = 20
        }
        let client = emulator.client()
        let job = try client.waitForCompletion(try client.createQueryJob("SELECT Id FROM Contact", operation: .query).id)
        let links = try #require(try client.resultPageLinks(job.id, expectedRecords: nil))
        #expect(links.count == 13)
        #expect(Set(links).count == 13)
        #expect(links.allSatisfy { $0.contains("/jobs/query/\(job.id)/results") })
        #expect(emulator.requests("GET", containing: "/resultPages").count == 3)
    }

    @Test func resultPageLinksAreNilWhenTheOrgLacksThem() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 20 }
        emulator.emulator.faults.failRequests(
            status: 404, count: 1, pathContains: "/resultPages",
            body: #"[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}]"#)
        let client = emulator.client()
        let job = try client.waitForCompletion(try client.createQueryJob("SELECT Id FROM Contact", operation: .query).id)
        #expect(try client.resultPageLinks(job.id, expectedRecords: nil) == nil)
    }

    @Test func describeReadsFieldMetadata() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let description = try emulator.client().describe("Contact")
        #expect(description.name == "Contact")
        let id = try #require(description.field("id"))
        #expect(id.type == "id")
        #expect(!id.nillable)
        let account = try #require(description.field("AccountId"))
        #expect(account.referenceTo == ["Account"])
        #expect(account.relationshipName == "Account")
        #expect(description.field("MailingCity")?.compoundFieldName == "MailingAddress")
        #expect(description.field("Email")?.length == 80)
        #expect(description.fields.contains { $0.custom })
    }

    @Test func describeOfAnUnknownObjectNamesIt() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let error = try #require(throws: SalesforceError.self) { try emulator.client().describe("NoSuchThing__c") }
        #expect(error.httpStatus == 404)
        #expect(error.message.contains("NoSuchThing__c"))
    }

    @Test func limitsAreKeyedByName() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let limits = try emulator.client().limits()
        let api = try #require(limits["DailyApiRequests"])
        #expect(api.max == emulator.configuration.dailyApiRequests)
        #expect(api.remaining <= api.max)
        #expect(limits["DailyBulkV2QueryJobs"] != nil)
    }
}
