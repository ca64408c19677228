import SalesforceEmulator

/// Starts an in-process Salesforce emulator on an ephemeral loopback port for a test.
///
/// Defaults suit tests: a small org (1,000 Contacts), a fast job (`jobProcessingDelay` 20 ms). Shut it down when
/// done: `defer { try? emulator.shutdownBlocking() }` or `try await emulator.shutdown()`.
///
/// ```swift
/// let emulator = try await TestEmulator.start { $0.contactCount = 120; $0.defaultPageSize = 50 }
/// ```
public enum TestEmulator {
    public static func start(_ configure: (inout EmulatorConfiguration) -> Void = { _ in }) async throws -> Emulator {
        var configuration = EmulatorConfiguration()
        configuration.jobProcessingDelay = .milliseconds(20)
        configure(&configuration)
        return try await Emulator.start(configuration)
    }
}
