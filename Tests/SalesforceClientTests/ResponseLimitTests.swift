import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// Issue #10, finding 2: a buffered response is read whole up to a generous cap, and a larger one is an error,
/// never a body silently cut at 1 MiB.
@Suite(.timeLimit(.minutes(3))) struct ResponseLimitTests {
    @Test func aDescribeLargerThanOneMiBIsReadWhole() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 10 }
        emulator.emulator.faults.padDescribe(bytes: 2_500_000)
        let description = try emulator.client().describe("Contact")
        #expect(description.name == "Contact")
        #expect(description.fields.contains { $0.name == "Email" })
    }

    @Test func aResponseOverTheCapFailsAndSaysSo() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 10 }
        emulator.emulator.faults.padDescribe(bytes: 300_000)
        var configuration = emulator.clientConfiguration()
        configuration.maxResponseBytes = 200_000
        let error = try #require(throws: SalesforceError.self) {
            _ = try SalesforceClient(configuration: configuration).describe("Contact")
        }
        #expect(error.code == .protocolViolation)
        #expect(error.message.contains("larger than 200000 bytes"))
        #expect(error.message.contains("/sobjects/Contact/describe"))
        // Not retried: the same body would come again.
        #expect(emulator.requests("GET", containing: "/describe").count == 1)
        // Under the cap the same client settings work.
        emulator.emulator.faults.padDescribe(bytes: 100_000)
        #expect(try SalesforceClient(configuration: configuration).describe("Contact").name == "Contact")
    }

    @Test func aHugeErrorBodyIsCutAndTheMessageSaysSo() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let huge = #"[{"errorCode":"HUGE","message":""# + String(repeating: "y", count: 1_500_000) + #""}]"#
        emulator.emulator.faults.failRequests(status: 400, count: 1, pathContains: "/limits", body: huge)
        let error = try #require(throws: SalesforceError.self) { _ = try emulator.client().limits() }
        #expect(error.httpStatus == 400)
        #expect(error.message.contains("error body larger than 1048576 bytes"))
        #expect(error.message.count < 5_000)
    }

    @Test func longServerMessagesAreClipped() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let long = #"[{"errorCode":"LONG","message":""# + String(repeating: "z", count: 100_000) + #""}]"#
        emulator.emulator.faults.failRequests(status: 400, count: 1, pathContains: "/limits", body: long)
        let error = try #require(throws: SalesforceError.self) { _ = try emulator.client().limits() }
        #expect(error.errorCode == "LONG")
        #expect(error.message.count < 5_000)
    }
}
