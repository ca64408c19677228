import Foundation
import Logging
import SalesforceClient
import SalesforceEmulator
import Synchronization
import Testing
import TestSupport

/// Keeps every log line in memory; the test's own handler, never bootstrapped globally.
private final class CapturingLogHandlerStorage: Sendable {
    let lines = Mutex<[(Logger.Level, String)]>([])
}

private struct CapturingLogHandler: LogHandler {
    let storage: CapturingLogHandlerStorage
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let text = "\(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        storage.lines.withLock { $0.append((event.level, text)) }
    }
}

@Suite(.timeLimit(.minutes(3))) struct LoggingTests {
    @Test func tracesEveryRequestWithoutSecrets() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 150 }
        emulator.emulator.faults.expireTokens(afterAPICalls: 2)
        let storage = CapturingLogHandlerStorage()
        let logger = Logger(label: "test") { _ in CapturingLogHandler(storage: storage) }
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
