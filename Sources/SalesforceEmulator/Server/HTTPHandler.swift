import NIOCore
import NIOHTTP1
#if canImport(Glibc)
import Glibc
#endif

/// Per-connection handler: aggregates a request, hands it to the router, writes the response. Runs on the
/// channel's event loop; the router moves heavy work to the thread pool and completes a future back here.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let router: Router
    /// This connection's number in accept order (``Router/acceptConnection()``).
    private let connection: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(router: Router, connection: Int) {
        self.router = router
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
            // libcurl sends `Expect: 100-continue` for larger POST bodies and waits a second without this.
            if head.headers["Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
            }
        case .body(var buffer):
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head else { return }
            self.head = nil
            var request = EmulatorRequest(
                method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) },
                body: body)
            request.connection = connection
            let keepAlive = head.isKeepAlive
            let version = head.version
            let (bytesPerSecond, latency) = router.faults.pacing(default: router.configuration)
            router.route(request, on: context.eventLoop).assumeIsolated().whenComplete { result in
                let response: EmulatorResponse
                switch result {
                case .success(let r): response = r
                case .failure(let error):
                    response = .error(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred: \(error)")
                }
                let write = { [self] in
                    self.write(response, version: version, keepAlive: keepAlive, bytesPerSecond: bytesPerSecond,
                               context: context)
                }
                if let latency {
                    context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(latency / .nanoseconds(1)))) {
                        write()
                    }
                } else {
                    write()
                }
            }
        }
    }

    private func write(
        _ response: EmulatorResponse, version: HTTPVersion, keepAlive: Bool, bytesPerSecond: Int?,
        context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders(response.headers)
        if response.chunked && response.bodyFault == nil {
            // No Content-Length: NIO's encoder frames the body as chunks, written in several parts below.
            headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        } else {
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.count))
        }
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))),
                      promise: nil)
        var bytes = response.body[...]
        var closeAfter = !keepAlive
        switch response.bodyFault {
        case .reset(let afterBytes):
            bytes = bytes.prefix(afterBytes ?? bytes.count / 2)
            closeAfter = true
        case .truncate, .emptyGzip, .cutAfterDelimiter, nil:
            break
        }
        var chunkSize = bytesPerSecond.map { max(1024, min($0 / 20, 256 * 1024)) } ?? Int.max
        if response.chunked { chunkSize = min(chunkSize, max(1, bytes.count / 3 + 1)) }
        writeBody(bytes, chunkSize: chunkSize, bytesPerSecond: bytesPerSecond, context: context) {
            // Only a reset ends without a clean end of message; the other body faults are in the bytes themselves.
            if case .reset = response.bodyFault {} else {
                let ended = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
                // Closing at once would drop whatever the socket has not taken yet: a large page sent to a
                // `Connection: close` client arrived cut short. Close once the last byte is written.
                if closeAfter {
                    ended.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                }
                return
            }
            context.flush()
            if closeAfter {
                if case .reset = response.bodyFault {
                    // SO_LINGER 0 turns the close into a TCP RST, which is what a dropped connection looks like.
                    if let provider = context.channel as? any SocketOptionProvider {
                        _ = provider.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                    }
                }
                context.close(promise: nil)
            }
        }
    }

    /// Writes `bytes` in paced chunks. Each next chunk waits for the previous write to complete (so a slow reader
    /// holds us back, respecting writability) and for the bandwidth budget.
    private func writeBody(
        _ bytes: ArraySlice<UInt8>, chunkSize: Int, bytesPerSecond: Int?, context: ChannelHandlerContext,
        then done: @escaping () -> Void
    ) {
        guard !bytes.isEmpty else {
            done()
            return
        }
        guard bytes.count > chunkSize else {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))), promise: nil)
            done()
            return
        }
        let chunk = bytes.prefix(chunkSize)
        let rest = bytes.dropFirst(chunkSize)
        let pause = bytesPerSecond.map { TimeAmount.nanoseconds(Int64(chunk.count) * 1_000_000_000 / Int64($0)) } ?? .zero
        let started = NIODeadline.now()
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: chunk)))))
            .assumeIsolated().whenComplete { result in
                guard case .success = result else { return }
                let wait = max(.zero, pause - (NIODeadline.now() - started))
                context.eventLoop.assumeIsolated().scheduleTask(in: wait) {
                    self.writeBody(rest, chunkSize: chunkSize, bytesPerSecond: bytesPerSecond, context: context,
                                   then: done)
                }
            }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
