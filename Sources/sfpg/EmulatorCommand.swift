import ArgumentParser
import Dispatch
import Foundation
import SalesforceEmulator

extension Sfpg {
    struct EmulatorCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "emulator",
            abstract: "Serve the local Salesforce emulator (OAuth, Bulk API 2.0 query, describe, limits) until stopped.",
            discussion: """
                Prints the SF_* variables that point sfpg at it. For tests and CI; never for production data.
                Examples:
                  sfpg emulator --port 8085 --contacts 100000
                """
        )

        @Option(help: "TCP port on 127.0.0.1 (0 picks a free one).")
        var port = 8085

        @Option(help: "Generated Contacts (Accounts and Opportunities scale with it).")
        var contacts = 10_000

        @Option(help: "Seed of the deterministic data generator.")
        var seed: UInt64 = 42

        @Option(help: "PEM public key that verifies JWT bearer assertions.")
        var jwtPublicKey: String?

        @Option(help: "Milliseconds a Bulk job spends before JobComplete.")
        var jobDelayMs = 200

        @Option(help: "Per-connection bandwidth cap for result downloads, bytes/s (for parallel-download tests).")
        var bandwidth: Int?

        @Option(help: "Added latency per response, milliseconds.")
        var latencyMs: Int?

        @Flag(help: "Serve https with a generated CA (its path and the trust variables are printed).")
        var tls = false

        func run() throws {
            var configuration = EmulatorConfiguration()
            configuration.port = port
            configuration.contactCount = contacts
            configuration.seed = seed
            configuration.jobProcessingDelay = .milliseconds(jobDelayMs)
            configuration.perConnectionBytesPerSecond = bandwidth
            configuration.latency = latencyMs.map { .milliseconds($0) }
            configuration.tls = tls
            if let jwtPublicKey {
                guard let pem = try? String(contentsOfFile: jwtPublicKey, encoding: .utf8) else {
                    throw ValidationError("cannot read --jwt-public-key \(jwtPublicKey)")
                }
                configuration.jwtPublicKeyPEM = pem
            }
            let emulator = try Emulator.startBlocking(configuration)
            say(EmulatorEnvironment.exports(for: emulator, configuration: configuration))
            emulator.trustExports.forEach { say($0) }
            FileHandle.standardError.write(Data("emulator listening on \(emulator.baseURL); Ctrl-C to stop\n".utf8))
            let stop = DispatchSemaphore(value: 0)
            var sources: [any DispatchSourceSignal] = []
            for signo in [SIGINT, SIGTERM] {
                signal(signo, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
                source.setEventHandler { stop.signal() }
                source.resume()
                sources.append(source)
            }
            stop.wait()
            sources.forEach { $0.cancel() }
            try emulator.shutdownBlocking()
        }
    }
}

/// The environment that points sfpg at an emulator, with the username-password grant.
enum EmulatorEnvironment {
    static func variables(for emulator: Emulator, configuration: EmulatorConfiguration) -> [(String, String)] {
        [
            ("SF_LOGIN_URL", emulator.baseURL),
            ("SF_CLIENT_ID", configuration.clientId),
            ("SF_CLIENT_SECRET", configuration.clientSecret),
            ("SF_USERNAME", configuration.username),
            ("SF_PASSWORD", configuration.password),
            ("SF_SECURITY_TOKEN", configuration.securityToken),
        ]
    }

    static func exports(for emulator: Emulator, configuration: EmulatorConfiguration) -> String {
        variables(for: emulator, configuration: configuration).map { "export \($0.0)='\($0.1)'" }.joined(separator: "\n")
    }
}
