import Foundation
import SalesforceEmulator
import Synchronization

/// The one way tests start an in-process Salesforce emulator: on an ephemeral loopback port, with a configuration,
/// shut down when released (or explicitly, earlier), with the SF_* environment of its grant and its admin calls.
///
/// Defaults suit tests: a small org (1,000 Contacts), a fast job (`jobProcessingDelay` 20 ms). The emulator's own
/// members (`org`, `faults`, `requests`, `baseURL`…) are reached through the helper.
///
/// ```swift
/// let emulator = try await TestEmulator.start { $0.contactCount = 120; $0.defaultPageSize = 50 }
/// ```
@dynamicMemberLookup
public final class TestEmulator: Sendable {
    public let emulator: Emulator
    public let configuration: EmulatorConfiguration
    /// Stopped once, by the first of an explicit shutdown and the release.
    private let stopped = Atomic<Bool>(false)

    private static func configuration(
        jobProcessingDelay: Duration, _ configure: (inout EmulatorConfiguration) -> Void
    ) -> EmulatorConfiguration {
        var configuration = EmulatorConfiguration()
        configuration.jobProcessingDelay = jobProcessingDelay
        configure(&configuration)
        return configuration
    }

    private init(emulator: Emulator, configuration: EmulatorConfiguration) {
        self.emulator = emulator
        self.configuration = configuration
    }

    /// Starts an emulator from a synchronous test.
    public convenience init(
        jobProcessingDelay: Duration = .milliseconds(20), _ configure: (inout EmulatorConfiguration) -> Void = { _ in }
    ) throws {
        let configuration = Self.configuration(jobProcessingDelay: jobProcessingDelay, configure)
        self.init(emulator: try Emulator.startBlocking(configuration), configuration: configuration)
    }

    /// Starts an emulator from an async test.
    public static func start(
        jobProcessingDelay: Duration = .milliseconds(20), _ configure: (inout EmulatorConfiguration) -> Void = { _ in }
    ) async throws -> TestEmulator {
        let configuration = Self.configuration(jobProcessingDelay: jobProcessingDelay, configure)
        return TestEmulator(emulator: try await Emulator.start(configuration), configuration: configuration)
    }

    deinit { try? shutdownBlocking() }

    public subscript<Value>(dynamicMember keyPath: KeyPath<Emulator, Value>) -> Value { emulator[keyPath: keyPath] }

    /// Stops it now (a test that checks what shutdown does, or that wants the port closed before it ends).
    public func shutdownBlocking() throws {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try emulator.shutdownBlocking()
    }

    public func shutdown() async throws {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try await emulator.shutdown()
    }

    /// The SF_* variables of the username-password grant against this emulator.
    public var environment: [String: String] {
        [
            "SF_LOGIN_URL": emulator.baseURL, "SF_CLIENT_ID": configuration.clientId,
            "SF_CLIENT_SECRET": configuration.clientSecret, "SF_USERNAME": configuration.username,
            "SF_PASSWORD": configuration.password, "SF_SECURITY_TOKEN": configuration.securityToken,
        ].merging(emulator.pubSubPort.map { ["SF_PUBSUB_ENDPOINT": "http://127.0.0.1:\($0)"] } ?? [:]) { $1 }
    }

    /// Every secret the emulator knows, for leak checks.
    public var secrets: [String] {
        [configuration.password, configuration.clientSecret, configuration.securityToken, configuration.refreshToken,
         configuration.password + configuration.securityToken]
    }

    // MARK: Admin API

    /// An admin call (`/__emulator/{path}`) over real HTTP, as a test outside the process would make it, through
    /// curl (no sfpg code on the way). Throws unless the emulator answers 2xx; returns the body.
    @discardableResult
    public func admin(_ method: String, _ path: String, json: String = "{}") throws -> String {
        let url = emulator.baseURL + "/__emulator/" + path
        let result = try TestSyncProcess.run(
            "/usr/bin/curl",
            ["-sS", "--max-time", "30", "-X", method, "-H", "Content-Type: application/json", "--data-binary", "@-",
             "-w", "\n%{http_code}", url],
            input: Array(json.utf8))
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        guard result.status == 0, (200..<300).contains(status) else {
            throw TestSyncProcess.Failure(
                description: "\(method) \(url) \(json): curl exit \(result.status), HTTP \(status): \(result.stdout)\(result.stderr)")
        }
        return lines.dropLast().joined(separator: "\n")
    }

    /// Moves the emulator's clock by `seconds` (negative: back): record stamps, job creation dates, job expiry.
    public func advanceClock(seconds: Int) throws {
        try admin("POST", "clock", json: #"{"advanceSeconds": \#(seconds)}"#)
    }
}
