import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SyncEngine

/// One HTTP request as `sfpg serve` routes it (the body is read and dropped: no endpoint takes one).
struct HTTPRequest: Sendable {
    var method: String
    var path: String
    var authorization: String?
}

/// One HTTP response.
struct HTTPReply: Sendable, Equatable {
    var status: Int
    var contentType = "application/json"
    var body: String

    /// A JSON body (keys sorted, as `sfpg status --json` writes them).
    static func json(_ status: Int, _ value: some Encodable) -> HTTPReply {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return HTTPReply(status: status, body: body + "\n")
    }
}

/// A small HTTP/1.1 server (SwiftNIO): one event loop accepts and parses, a thread pool runs the routes, which may
/// block on PostgreSQL.
final class HTTPServer: Sendable {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let pool = NIOThreadPool(numberOfThreads: 2)
    private let channel: any Channel
    /// The port it listens on (the one asked for, or the one the kernel chose for 0).
    let port: Int

    /// Binds `host:port` and starts serving: `quick` answers on the event loop what it can without blocking (a
    /// liveness probe must not queue behind database calls), `route` the rest on the pool.
    init(
        host: String, port: Int, quick: @escaping @Sendable (HTTPRequest) -> HTTPReply?,
        route: @escaping @Sendable (HTTPRequest) -> HTTPReply
    ) throws {
        pool.start()
        let pool = self.pool
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(pool: pool, quick: quick, route: route))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? pool.syncShutdownGracefully()
            try? group.syncShutdownGracefully()
            // A port in use or an address not on this host: the command line's to fix (exit 2).
            throw SyncError("cannot listen on \(host):\(port): \(error); pass another --bind or --port", reason: .configuration)
        }
        self.port = channel.localAddress?.port ?? port
    }

    /// Stops listening and finishes the threads.
    func stop() {
        try? channel.close().wait()
        try? pool.syncShutdownGracefully()
        try? group.syncShutdownGracefully()
    }
}

private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let pool: NIOThreadPool
    let quick: @Sendable (HTTPRequest) -> HTTPReply?
    let route: @Sendable (HTTPRequest) -> HTTPReply
    private var head: HTTPRequestHead?

    init(pool: NIOThreadPool, quick: @escaping @Sendable (HTTPRequest) -> HTTPReply?, route: @escaping @Sendable (HTTPRequest) -> HTTPReply) {
        (self.pool, self.quick, self.route) = (pool, quick, route)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let path = String(head.uri.prefix { $0 != "?" })
            let request = HTTPRequest(method: head.method.rawValue, path: path, authorization: head.headers["Authorization"].first)
            if let reply = quick(request) { return write(reply, head: head, context: context) }
            let route = self.route
            pool.runIfActive(eventLoop: context.eventLoop) { route(request) }.assumeIsolated().whenComplete { result in
                let reply = (try? result.get()) ?? .json(500, ["error": "internal error"])
                self.write(reply, head: head, context: context)
            }
        }
    }

    private func write(_ reply: HTTPReply, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Content-Type", reply.contentType), ("Content-Length", "\(reply.body.utf8.count)")])
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: reply.body)))), promise: nil)
        let ended = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !head.isKeepAlive { ended.assumeIsolated().whenComplete { _ in context.close(promise: nil) } }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
