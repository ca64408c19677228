import Foundation
import SalesforceEmulator
import Testing
import TestSupport

@testable import SalesforceClient

/// Issue #10, finding 3: no request waits without bound. A peer that keeps sending slowly, but faster than the
/// old 1 byte/s stall check, must still be cut off: non-streamed requests by a total timeout, result pages by a
/// minimum speed and a total page timeout. Each failure is a `.timeout` within the configured bound.
@Suite(.timeLimit(.minutes(3))) struct TransferBoundTests {
    private func completedJob(_ emulator: TestEmulator) throws -> (SalesforceClient, String, Int) {
        let client = emulator.client()
        let job = try client.createQueryJob(contactSOQL, operation: .query)
        let done = try client.waitForCompletion(job.id)
        return (client, job.id, done.numberRecordsProcessed ?? 0)
    }

    private func elapsed(_ body: () throws -> Void) -> (Duration, (any Error)?) {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try body()
            return (clock.now - start, nil)
        } catch {
            return (clock.now - start, error)
        }
    }

    @Test func aSlowNonStreamedResponseHitsTheRequestTimeout() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 10 }
        var configuration = emulator.clientConfiguration()
        configuration.requestTimeout = .seconds(2)
        configuration.maxRetries = 1
        let client = SalesforceClient(configuration: configuration)
        try client.authenticate()
        // ~200 KB at 2 KiB/s is well above any stall check (old: 1 byte/s) but takes ~100 s.
        emulator.emulator.faults.padDescribe(bytes: 200_000)
        emulator.emulator.faults.setBandwidth(bytesPerSecond: 2_048)
        let (took, error) = elapsed { _ = try client.describe("Contact") }
        let failure = try #require(error as? SalesforceError)
        #expect(failure.code == .timeout)
        #expect(failure.message.contains("Gave up after 2 attempts"))
        // Two attempts of at most 2 s each, plus the backoff and slack.
        #expect(took < .seconds(12), "took \(took)")
        #expect(emulator.requests("GET", containing: "/describe").count == 2)
    }

    @Test func aTricklingResultPageHitsTheLowSpeedLimit() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 5_000 }
        let (_, jobId, records) = try completedJob(emulator)
        var configuration = emulator.clientConfiguration()
        configuration.lowSpeedTimeSeconds = 2
        configuration.maxRetries = 0
        let client = SalesforceClient(configuration: configuration)
        try client.authenticate()
        // 512 B/s: far above the old 1 byte/s check (the page would take minutes), below the 1 KiB/s minimum.
        emulator.emulator.faults.setBandwidth(bytesPerSecond: 512)
        let consumer = HashingConsumer()
        let (took, error) = elapsed {
            _ = try client.downloadResults(jobId, maxRecords: nil, expectedRecords: records, into: consumer)
        }
        let failure = try #require(error as? SalesforceError)
        #expect(failure.code == .timeout)
        #expect(took < .seconds(15), "took \(took)")
        #expect(consumer.openPages.isEmpty)
    }

    @Test func aSteadyButEndlessResultPageHitsThePageTimeout() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 5_000 }
        let (_, jobId, records) = try completedJob(emulator)
        var configuration = emulator.clientConfiguration()
        configuration.pageTimeout = .seconds(2)
        configuration.maxRetries = 1
        let client = SalesforceClient(configuration: configuration)
        try client.authenticate()
        // 8 KiB/s passes the minimum speed, but the page takes far longer than the page timeout.
        emulator.emulator.faults.setBandwidth(bytesPerSecond: 8_192)
        let consumer = HashingConsumer()
        let (took, error) = elapsed {
            _ = try client.downloadResults(jobId, maxRecords: nil, expectedRecords: records, into: consumer)
        }
        let failure = try #require(error as? SalesforceError)
        #expect(failure.code == .timeout)
        #expect(took < .seconds(12), "took \(took)")
        // Discarded and re-fetched once, then given up; never left open.
        #expect(consumer.discards >= 1)
        #expect(consumer.openPages.isEmpty)
    }

    @Test func theBoundsComeFromTheEnvironment() throws {
        let environment = [
            "SF_LOGIN_URL": "https://login.salesforce.com", "SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "secret",
            "SF_REQUEST_TIMEOUT": "90s", "SF_PAGE_TIMEOUT": "45m", "SF_LOW_SPEED_LIMIT": "4096", "SF_LOW_SPEED_TIME": "30",
        ]
        let configuration = try SalesforceConfiguration.fromEnvironment(environment)
        #expect(configuration.requestTimeout == .seconds(90))
        #expect(configuration.pageTimeout == .seconds(45 * 60))
        #expect(configuration.lowSpeedLimitBytesPerSecond == 4096)
        #expect(configuration.lowSpeedTimeSeconds == 30)
        let defaults = try SalesforceConfiguration.fromEnvironment(environment.filter { !$0.key.hasPrefix("SF_LOW") && !$0.key.hasSuffix("TIMEOUT") })
        #expect(defaults.requestTimeout == .seconds(120))
        #expect(defaults.pageTimeout == .seconds(1800))
        #expect(defaults.lowSpeedLimitBytesPerSecond == 1024)
        #expect(defaults.lowSpeedTimeSeconds == 60)
        #expect(try SalesforceConfiguration.parseDuration("1500ms", variable: "X") == .milliseconds(1500))
        #expect(try SalesforceConfiguration.parseDuration("2", variable: "X") == .seconds(2))
        for bad in ["0", "-1", "soon", "10 days", "9999h"] {
            var broken = environment
            broken["SF_REQUEST_TIMEOUT"] = bad
            let error = try #require(throws: SalesforceError.self, "\(bad)") {
                try SalesforceConfiguration.fromEnvironment(broken)
            }
            #expect(error.message.contains("SF_REQUEST_TIMEOUT"))
        }
    }
}
