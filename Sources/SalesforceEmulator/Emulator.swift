import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A local Salesforce: OAuth 2.0 token endpoint, Bulk API 2.0 query jobs, the REST query, describe, limits, and an
/// admin API, over HTTP(S) on loopback, with deterministic generated data and fault injection.
///
/// ```swift
/// let emulator = try await Emulator.start(EmulatorConfiguration())
/// defer { try? emulator.shutdownBlocking() }
/// // POST \(emulator.baseURL)/services/oauth2/token, then /services/data/v62.0/jobs/query …
/// ```
///
/// The admin HTTP API under `/__emulator/` (records, faults, clock, transport, request log, reset; JSON, no
/// authentication, never counted or faulted) is described in `docs/emulator.md`.
///
/// With ``EmulatorConfiguration/tls`` it serves https with a CA generated at start (``caCertificatePath``,
/// ``trustExports``). `docs/emulator.md` describes it for users.
public final class Emulator: Sendable {
    private let group: MultiThreadedEventLoopGroup
    private let threadPool: NIOThreadPool
    private let channel: any Channel
    let router: Router

    /// `http://host:port` (`https://` with ``EmulatorConfiguration/tls``); both the login host and the
    /// `instance_url`.
    public let baseURL: String
    /// The generated CA certificate clients must trust when serving TLS; `nil` over plain http.
    public var caCertificatePath: String? { certificates?.caPath }
    private let certificates: TLSCertificates?
    /// The bound TCP port.
    public let port: Int
    /// The Pub/Sub API server (``EmulatorConfiguration/pubSubPort``), nil without one.
    private let pubSub: PubSubServer?
    /// The Pub/Sub API's bound port (plaintext HTTP/2), nil without ``EmulatorConfiguration/pubSubPort``.
    public var pubSubPort: Int? { pubSub?.port }
    /// Change events sent to subscribers so far, for flow-control checks.
    public var pubSubEventsSent: Int { router.org.changes.state.withLock { $0.sent } }

    /// The org's data, for in-process administration.
    public var org: Org { router.org }

    /// Result pages served from ``EmulatorConfiguration/resultCacheBytes``'s cache.
    public var resultCacheHits: Int { router.resultCache?.hits.load(ordering: .relaxed) ?? 0 }
    /// Fault switches, for in-process use.
    public var faults: FaultInjector { router.faults }
    /// Access tokens issued and still valid, so tests can assert they never appear in logs or files.
    public var issuedAccessTokens: [String] { router.tokens.all }
    /// Refresh tokens issued by rotation (``EmulatorConfiguration/rotateRefreshTokens``), used or not.
    public var issuedRefreshTokens: [String] { router.tokens.issuedRefreshTokens }
    /// Every request served so far (except admin requests), oldest first.
    public var requests: [RecordedRequest] { router.requestLog.withLock { $0 } }
    /// TCP connections accepted since start (admin requests' connections included; a reset does not clear it).
    public var acceptedConnections: Int { router.acceptedConnections.load(ordering: .relaxed) }

    private init(
        group: MultiThreadedEventLoopGroup, threadPool: NIOThreadPool, channel: any Channel, router: Router, port: Int,
        host: String, certificates: TLSCertificates?, pubSub: PubSubServer?
    ) {
        (self.group, self.threadPool, self.channel, self.router) = (group, threadPool, channel, router)
        (self.port, self.certificates, self.pubSub) = (port, certificates, pubSub)
        self.baseURL = "\(certificates == nil ? "http" : "https")://\(host):\(port)"
    }

    /// Shell lines that make common clients trust the emulator's CA (empty over plain http): OpenSSL-based tools
    /// and Python's ssl read `SSL_CERT_FILE`, requests reads `REQUESTS_CA_BUNDLE`, Node reads
    /// `NODE_EXTRA_CA_CERTS`, libcurl's command line reads `CURL_CA_BUNDLE`.
    public var trustExports: [String] {
        guard let ca = caCertificatePath else { return [] }
        return ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE"].map { "export \($0)='\(ca)'" }
    }

    /// Starts an emulator and returns once it accepts connections.
    public static func start(_ configuration: EmulatorConfiguration) async throws -> Emulator {
        let parts = try prepare(configuration)
        do {
            let channel = try await parts.bootstrap.bind(host: configuration.host, port: configuration.port).get()
            var pubSub: PubSubServer?
            if let port = configuration.pubSubPort {
                pubSub = try await PubSubServer.start(
                    router: parts.router, host: configuration.host, port: port, group: parts.group)
            }
            return try finish(parts, channel: channel, pubSub: pubSub, configuration: configuration)
        } catch {
            try? await parts.threadPool.shutdownGracefully()
            try? await parts.group.shutdownGracefully()
            throw error
        }
    }

    /// ``start(_:)`` for synchronous callers; must not be called from an event loop thread.
    public static func startBlocking(_ configuration: EmulatorConfiguration) throws -> Emulator {
        let parts = try prepare(configuration)
        do {
            let channel = try parts.bootstrap.bind(host: configuration.host, port: configuration.port).wait()
            let (router, group) = (parts.router, parts.group)
            let pubSub = try configuration.pubSubPort.map { port in
                try PubSubServer.blocking {
                    try await PubSubServer.start(router: router, host: configuration.host, port: port, group: group)
                }
            }
            return try finish(parts, channel: channel, pubSub: pubSub, configuration: configuration)
        } catch {
            try? parts.threadPool.syncShutdownGracefully()
            try? parts.group.syncShutdownGracefully()
            throw error
        }
    }

    private struct Parts {
        var group: MultiThreadedEventLoopGroup
        var threadPool: NIOThreadPool
        var router: Router
        var bootstrap: ServerBootstrap
        var certificates: TLSCertificates?
    }

    private static func prepare(_ configuration: EmulatorConfiguration) throws -> Parts {
        let certificates = configuration.tls ? try TLSCertificates.generate() : nil
        let tls = try certificates.map(TLSContext.init(certificates:))
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let threadPool = NIOThreadPool(numberOfThreads: 2)
        threadPool.start()
        let router = Router(configuration: configuration, threadPool: threadPool)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                // Counted at accept, before TLS: every TCP connection a client opens, whether or not it gets far.
                let connection = router.acceptConnection()
                return channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(TLSServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withPipeliningAssistance: true, withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(router: router, connection: connection))
                }
            }
        return Parts(group: group, threadPool: threadPool, router: router, bootstrap: bootstrap, certificates: certificates)
    }

    private static func finish(
        _ parts: Parts, channel: any Channel, pubSub: PubSubServer?, configuration: EmulatorConfiguration
    ) throws -> Emulator {
        guard let port = channel.localAddress?.port else { throw ChannelError.unknownLocalAddress }
        let emulator = Emulator(
            group: parts.group, threadPool: parts.threadPool, channel: channel, router: parts.router, port: port,
            host: configuration.host, certificates: parts.certificates, pubSub: pubSub)
        parts.router.baseURL.withLock { $0 = emulator.baseURL }
        return emulator
    }

    /// Stops accepting connections, closes open ones and stops the threads.
    public func shutdown() async throws {
        router.org.changes.reset()
        await pubSub?.shutdown()
        try await channel.close().get()
        try await threadPool.shutdownGracefully()
        try await group.shutdownGracefully()
        removeCertificates()
    }

    private func removeCertificates() {
        if let directory = certificates?.directory { try? FileManager.default.removeItem(atPath: directory) }
    }

    /// ``shutdown()`` for synchronous callers; must not be called from an event loop thread.
    public func shutdownBlocking() throws {
        router.org.changes.reset()
        pubSub?.stop()
        try channel.close().wait()
        try threadPool.syncShutdownGracefully()
        try group.syncShutdownGracefully()
        removeCertificates()
    }
}
