import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@Suite struct ConnectionCloseTests {
    /// A client that sends `Connection: close` (Python's urllib does) must still get the whole page: the server
    /// may close only after the last byte has left, or a page larger than the socket buffer arrives cut short.
    @Test func largePageArrivesWholeWhenTheClientAsksToClose() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 60_000; $0.defaultPageSize = 60_000 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id, Description, MailingStreet, Notes__c FROM Contact")
        let page = try session.get("/jobs/query/\(id)/results", headers: ["Connection": "close"])
        #expect(page.status == 200)
        let length = try #require(page.header("Content-Length").flatMap { Int($0) })
        #expect(length > 4 << 20, "the page must exceed a loopback socket buffer to show the bug")
        #expect(page.body.count == length)
        #expect(CSV.rows(page.text).count == 60_001)
    }
}
