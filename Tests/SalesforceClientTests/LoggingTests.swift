import Foundation
import Logging
import SalesforceClient
import SalesforceEmulator
import Synchronization
import Testing
import TestSupport

@Suite(.timeLimit(.minutes(3))) struct LoggingTests {
    @Test func tracesEveryRequestWithoutSecrets() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 150 }
        emulator.emulator.faults.expireTokens(afterAPICalls: 2)
        let storage = CapturedLog()
        let logger = storage.logger
        let client = SalesforceClient(configuration: emulator.clientConfiguration(), logger: logger)
        let job = try client.waitForCompletion(try client.createQueryJob(contactSOQL, operation: .query).id)
        _ = try client.downloadResults(job.id, maxRecords: 100, expectedRecords: nil, into: HashingConsumer())

        let lines = storage.lines.withLock { $0 }
        let traces = lines.filter { $0.0 == .trace && $0.1.hasPrefix("HTTP request") }
        #expect(traces.count == client.apiCallCount)
        #expect(lines.contains { $0.0 == .debug && $0.1.hasPrefix("Result page downloaded") })
        let configuration = emulator.configuration
        for (_, text) in lines {
            for secret in [configuration.password, configuration.securityToken, configuration.clientSecret, "locator=", "Bearer"] {
                #expect(!text.contains(secret), "\(text)")
            }
        }
    }
}
