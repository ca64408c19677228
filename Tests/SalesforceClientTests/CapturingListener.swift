import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A second HTTP server on another loopback port, standing in for "some other host": it records every byte any
/// client sends it and answers each connection with one canned response (a small CSV page by default). Tests use
/// it to prove that nothing, and in particular no `Authorization` header, ever reaches it.
final class CapturingListener: @unchecked Sendable {
    // @unchecked: `received` and `connections` are guarded by `lock`; the socket is only closed in `stop()`.
    let port: Int
    private let socketFD: Int32
    private let lock = NSLock()
    private var receivedBytes: [UInt8] = []
    private var connectionCount = 0
    private var stopped = false
    private let done = DispatchSemaphore(value: 0)
    private let response: [UInt8]

    init(response: String = "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: 18\r\n\r\n\"Id\"\n\"stolen-id\"\n")
        throws
    {
        struct ListenerFailed: Error {}
        self.response = Array(response.utf8)
        socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw ListenerFailed() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = socketFD
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && listen(fd, 16) == 0
                    && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else {
            close(socketFD)
            throw ListenerFailed()
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Every byte received so far, over all connections.
    var received: [UInt8] { lock.withLock { receivedBytes } }
    var receivedText: String { String(decoding: received, as: UTF8.self) }
    var connections: Int { lock.withLock { connectionCount } }

    func stop() {
        let first = lock.withLock { () -> Bool in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        done.wait()
        close(socketFD)
    }

    private func acceptLoop() {
        defer { done.signal() }
        while !lock.withLock({ stopped }) {
            var poller = pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let client = accept(socketFD, nil, nil)
            guard client >= 0 else { continue }
            lock.withLock { connectionCount += 1 }
            serve(client)
            close(client)
        }
    }

    /// Reads until the request head (and a short grace for a body) has arrived, then answers.
    private func serve(_ client: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var request: [UInt8] = []
        let deadline = Date().addingTimeInterval(2)
        while Date() < deadline {
            var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) > 0 else {
                if request.contains(13) { break }
                continue
            }
            let count = read(client, &buffer, buffer.count)
            if count <= 0 { break }
            request += buffer[..<count]
            lock.withLock { receivedBytes += buffer[..<count] }
        }
        _ = response.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
    }
}
