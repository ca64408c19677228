import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOPosix
import Synchronization

/// The Pub/Sub API's own port: gRPC over plaintext HTTP/2 (h2c) on the emulator's host and event loops. Salesforce
/// serves it over TLS only; the client's TLS path is exercised against Salesforce, not here.
final class PubSubServer: Sendable {
    let port: Int
    private let server: GRPCServer<HTTP2ServerTransport.Posix>
    private let serving: Task<Void, any Error>

    private init(port: Int, server: GRPCServer<HTTP2ServerTransport.Posix>, serving: Task<Void, any Error>) {
        (self.port, self.server, self.serving) = (port, server, serving)
    }

    static func start(router: Router, host: String, port: Int, group: MultiThreadedEventLoopGroup) async throws
        -> PubSubServer
    {
        let server = GRPCServer(
            transport: HTTP2ServerTransport.Posix(
                address: .ipv4(host: host, port: port), transportSecurity: .plaintext, eventLoopGroup: group),
            services: [PubSubService(router: router)])
        let serving = Task { try await server.serve() }
        guard let bound = try await server.listeningAddress?.ipv4?.port else {
            serving.cancel()
            throw RPCError(code: .unavailable, message: "The Pub/Sub server did not bind \(host):\(port).")
        }
        return PubSubServer(port: bound, server: server, serving: serving)
    }

    /// Stops at once: open subscriptions never end by themselves, so a graceful drain would wait forever.
    func shutdown() async {
        stop()
        _ = await serving.result
    }

    /// ``shutdown()`` without waiting, for synchronous callers (the event loops' shutdown closes what is left).
    func stop() {
        server.beginGracefulShutdown()
        serving.cancel()
    }

    /// Runs `body` on a task and waits for it; for the emulator's synchronous start and stop, never on an event loop.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }
}
