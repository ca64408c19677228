import ArgumentParser
import Dispatch
import Foundation
import SalesforceEmulator

#if canImport(Glibc)
import Glibc
#endif

/// `sfpg-emulator`: serves the local Salesforce emulator until stopped. A separate executable so that the production
/// `sfpg` binary links neither the emulator nor SwiftNIO; `sfpg demo` starts it as a child process.
@main
struct EmulatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sfpg-emulator",
        abstract: "Serve the local Salesforce emulator (OAuth, Bulk API 2.0 query, describe, limits) until stopped.",
        discussion: """
            Prints the SF_* variables that point sfpg at it on stdout, then serves until SIGINT or SIGTERM. For \
            tests, demos and CI; never for production data.

            --print-env shell (the default) prints `export SF_…='…'` lines for a shell's eval; --print-env json \
            prints one JSON object on one line, {"baseURL": …, "port": …, "env": {"SF_LOGIN_URL": …, …}}, for \
            programs (sfpg demo reads it).

            Examples:
              sfpg-emulator --port 8085 --contacts 100000
              sfpg-emulator --port 0 --print-env json
            """
    )

    @Option(help: "TCP port on 127.0.0.1 (0 picks a free one).") var port = 8085
    @Option(help: "Generated Contacts (Accounts and Opportunities scale with it).") var contacts = 10_000
    @Option(help: "Seed of the deterministic data generator.") var seed: UInt64 = 42
    @Option(help: "PEM public key that verifies JWT bearer assertions.") var jwtPublicKey: String?
    @Option(help: "Milliseconds a Bulk job spends before JobComplete.") var jobDelayMs = 200
    @Option(help: "Per-connection bandwidth cap for result downloads, bytes/s (for parallel-download tests).")
    var bandwidth: Int?
    @Option(help: "Added latency per response, milliseconds.") var latencyMs: Int?
    @Option(help: "MiB of rendered result pages reused by later jobs with the same query on unchanged data (benchmarks; default 0: off).")
    var resultCacheMb = 0
    @Option(help: "How to print the SF_* variables on stdout: shell (export lines) or json (one line).")
    var printEnv: EnvFormat = .shell
    @Flag(help: "Serve https with a generated CA (its path and the trust variables are printed).") var tls = false
    @Flag(help: "Exit when the process that started it exits, so a killed caller (sfpg demo) leaves no emulator behind.")
    var exitWithParent = false
    @Option(help: "Aggregate REST queries (COUNT() …) over more records than this fail with QUERY_TIMEOUT (default: never).")
    var aggregateTimeoutRecords: Int?
    @Option(help: "getDeleted/getUpdated answer EXCEEDED_ID_LIMIT past this many Ids.") var replicationIdLimit = 600_000
    @Option(help: "Queries whose fields weigh more than this fail with QUERY_TOO_COMPLICATED (a field weighs 1; default: never).")
    var maxQueryWeight: Int?
    @Option(help: "Weight of a formula field against --max-query-weight.") var formulaFieldWeight = 10
    @Option(help: "An object whose Bulk query jobs are refused with INVALIDENTITY (repeatable).")
    var bulkUnsupported: [String] = []
    @Option(help: "An object that describes as replicateable: false and refuses getDeleted/getUpdated (repeatable).")
    var notReplicateable: [String] = []
    @Option(help: "Custom fields of Wide__c, an object too wide for one query (every tenth a formula; default 0: none).")
    var wideObjectFields = 0
    @Option(help: "Generated Wide__c records.") var wideObjectRecords = 1_000
    @Option(help: "Seconds soft-deleted records stay in the recycle bin before they are purged (default 15 days).")
    var recycleBinRetentionSeconds = 15 * 86_400
    @Option(help: "DailyApiRequests maximum.") var dailyApiRequests = 15_000
    @Option(help: "Serve the Pub/Sub API (change events, plaintext HTTP/2) on this port (0 picks a free one; default: off).")
    var pubsubPort: Int?
    @Option(help: "Seconds change events stay replayable on the emulator's clock (default 72 hours).")
    var changeEventRetentionSeconds = 72 * 3600
    @Option(help: "Milliseconds an idle subscription waits before an empty keepalive batch.") var pubsubKeepaliveMs = 30_000

    enum EnvFormat: String, ExpressibleByArgument, CaseIterable {
        case shell, json
    }

    func run() throws {
        let configuration = try makeConfiguration()
        // Signals are set up before the server starts, so a SIGTERM that arrives while it starts is not lost.
        let stop = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signo in [SIGINT, SIGTERM] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { stop.signal() }
            source.resume()
            sources.append(source)
        }
        if exitWithParent { Self.watchParent(stop) }
        let emulator = try Emulator.startBlocking(configuration)
        let variables = EmulatorEnvironment.variables(for: emulator, configuration: configuration)
        switch printEnv {
        case .shell:
            print(EmulatorEnvironment.exports(variables))
            // SSL_CERT_FILE=…, REQUESTS_CA_BUNDLE=…: what a client needs to trust the generated CA.
            emulator.trustExports.forEach { print($0) }
        case .json: print(try EmulatorEnvironment.jsonLine(baseURL: emulator.baseURL, port: emulator.port, variables))
        }
        fflush(nil)
        FileHandle.standardError.write(Data("emulator listening on \(emulator.baseURL); Ctrl-C to stop\n".utf8))
        stop.wait()
        sources.forEach { $0.cancel() }
        try emulator.shutdownBlocking()
    }

    func makeConfiguration() throws -> EmulatorConfiguration {
        var configuration = EmulatorConfiguration()
        configuration.port = port
        configuration.contactCount = contacts
        configuration.seed = seed
        configuration.jobProcessingDelay = .milliseconds(jobDelayMs)
        configuration.perConnectionBytesPerSecond = bandwidth
        configuration.latency = latencyMs.map { .milliseconds($0) }
        configuration.resultCacheBytes = max(0, resultCacheMb) << 20
        configuration.tls = tls
        configuration.aggregateTimeoutRecords = aggregateTimeoutRecords
        configuration.replicationIdLimit = replicationIdLimit
        configuration.maxQueryWeight = maxQueryWeight
        configuration.formulaFieldWeight = formulaFieldWeight
        configuration.bulkUnsupportedObjects = bulkUnsupported
        configuration.nonReplicateableObjects = notReplicateable
        configuration.wideObjectFields = wideObjectFields
        configuration.wideObjectRecords = wideObjectRecords
        configuration.recycleBinRetention = .seconds(recycleBinRetentionSeconds)
        configuration.dailyApiRequests = dailyApiRequests
        configuration.pubSubPort = pubsubPort
        configuration.changeEventRetention = .seconds(changeEventRetentionSeconds)
        configuration.pubSubKeepalive = .milliseconds(pubsubKeepaliveMs)
        if let jwtPublicKey {
            guard let pem = try? String(contentsOfFile: jwtPublicKey, encoding: .utf8) else {
                throw ValidationError("cannot read --jwt-public-key \(jwtPublicKey)")
            }
            configuration.jwtPublicKeyPEM = pem
        }
        return configuration
    }

    /// Signals `stop` once the parent is gone (the process is re-parented). Polled twice a second: prctl's
    /// PR_SET_PDEATHSIG is variadic in C and not callable from Swift.
    static func watchParent(_ stop: DispatchSemaphore) {
        let parent = getppid()
        let thread = Thread {
            while getppid() == parent { usleep(500_000) }
            stop.signal()
        }
        thread.start()
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
        ] + (emulator.pubSubPort.map { [("SF_PUBSUB_ENDPOINT", "http://\(configuration.host):\($0)")] } ?? [])
    }

    static func exports(_ variables: [(String, String)]) -> String {
        variables.map { "export \($0.0)='\($0.1)'" }.joined(separator: "\n")
    }

    /// `{"baseURL":"http://127.0.0.1:…","env":{"SF_CLIENT_ID":…,…},"port":…}` on one line (sorted keys).
    static func jsonLine(baseURL: String, port: Int, _ variables: [(String, String)]) throws -> String {
        var env: [String: String] = [:]
        for (name, value) in variables { env[name] = value }
        let object: [String: Any] = ["baseURL": baseURL, "port": port, "env": env]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}
