import CLibSSL
import Foundation
import NIOCore

/// A throwaway certificate authority and a server certificate for `127.0.0.1` and `localhost`, made at start with
/// the `openssl` command-line tool in a fresh temporary directory.
///
/// Salesforce is only ever reached over https, and third-party clients (simple-salesforce, jsforce, Data Loader)
/// hard-code the scheme, so the emulator must speak TLS for them to run unchanged. Clients trust the CA through
/// their usual knobs (`REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`, a Java trust store) instead
/// of turning verification off. The openssl CLI is the simplest robust way to get X.509 extensions right
/// (strict verifiers such as Python 3.13's want key usage, SKI/AKI and a SAN) without an ASN.1 library.
public struct TLSCertificates: Sendable {
    /// Directory holding the PEM files; removed by ``Emulator/shutdown()``.
    public let directory: String
    /// The CA certificate clients must trust, the server's certificate chain, and its private key.
    public let caPath: String, certificatePath: String, keyPath: String

    static func generate() throws -> TLSCertificates {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("sfpg-emulator-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let d = directory
        let certs = TLSCertificates(
            directory: d, caPath: d + "/ca.pem", certificatePath: d + "/server.pem", keyPath: d + "/server.key")
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try run(["req", "-x509"] + ec + [
            "-keyout", d + "/ca.key", "-out", certs.caPath, "-days", "30", "-subj", "/CN=sfpg emulator test CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "subjectKeyIdentifier=hash",
        ])
        try run(["req"] + ec + ["-keyout", certs.keyPath, "-out", d + "/server.csr", "-subj", "/CN=127.0.0.1"])
        try """
            subjectAltName=IP:127.0.0.1,DNS:localhost
            basicConstraints=critical,CA:FALSE
            keyUsage=critical,digitalSignature,keyEncipherment
            extendedKeyUsage=serverAuth
            subjectKeyIdentifier=hash
            authorityKeyIdentifier=keyid,issuer

            """.write(toFile: d + "/server.ext", atomically: true, encoding: .utf8)
        try run([
            "x509", "-req", "-in", d + "/server.csr", "-CA", certs.caPath, "-CAkey", d + "/ca.key", "-CAcreateserial",
            "-out", certs.certificatePath, "-days", "30", "-extfile", d + "/server.ext",
        ])
        return certs
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        let candidates = ["/usr/bin/openssl", "/usr/local/bin/openssl", "/opt/homebrew/bin/openssl"]
        if let path = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) {
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
        }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TLSFailure(
                description: "openssl \(arguments.first ?? "") failed: \(String(decoding: message, as: UTF8.self))")
        }
    }
}

struct TLSFailure: Error, CustomStringConvertible {
    var description: String
}

/// An OpenSSL server context (certificate and key loaded), shared by every connection.
final class TLSContext: @unchecked Sendable {
    // SSL_CTX is safe to share once configured: connections only call SSL_new on it.
    let context: OpaquePointer

    init(certificates: TLSCertificates) throws {
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSFailure(description: "SSL_CTX_new failed")
        }
        self.context = context
        _ = sfpg_ssl_ctx_min_tls12(context)
        guard SSL_CTX_use_certificate_chain_file(context, certificates.certificatePath) == 1,
            SSL_CTX_use_PrivateKey_file(context, certificates.keyPath, sfpg_ssl_filetype_pem()) == 1,
            SSL_CTX_check_private_key(context) == 1
        else {
            SSL_CTX_free(context)
            throw TLSFailure(description: "cannot load the emulator's TLS certificate or key")
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// Server-side TLS for one connection: ciphertext from the socket goes into a memory BIO, OpenSSL turns it into
/// plaintext for the HTTP handlers above, and their plaintext writes come back out as ciphertext. Sits first in
/// the pipeline, below the HTTP codec.
final class TLSServerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let tls: TLSContext
    private var ssl: OpaquePointer?
    private var networkIn: OpaquePointer?
    private var networkOut: OpaquePointer?
    private var handshakeDone = false
    private var closed = false

    init(context: TLSContext) {
        tls = context
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let ssl = SSL_new(tls.context), let input = BIO_new(BIO_s_mem()), let output = BIO_new(BIO_s_mem())
        else {
            context.close(promise: nil)
            return
        }
        SSL_set_bio(ssl, input, output)  // the SSL now owns both BIOs
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        networkIn = input
        networkOut = output
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let ssl { SSL_free(ssl) }
        ssl = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let ssl, let networkIn, !closed else { return }
        var buffer = unwrapInboundIn(data)
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = BIO_write(networkIn, bytes.baseAddress! + offset, Int32(bytes.count - offset))
                if n <= 0 { break }
                offset += Int(n)
            }
        }
        buffer.moveReaderIndex(to: buffer.writerIndex)
        if !handshakeDone {
            let rc = SSL_do_handshake(ssl)
            if rc == 1 {
                handshakeDone = true
            } else {
                let error = SSL_get_error(ssl, rc)
                flushCiphertext(context: context, promise: nil)
                if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE { fail(context: context) }
                return
            }
        }
        var plaintext = context.channel.allocator.buffer(capacity: 16 * 1024)
        var lastResult: Int32 = 0
        while true {
            let n = plaintext.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { out in
                lastResult = SSL_read(ssl, out.baseAddress, Int32(out.count))
                return lastResult > 0 ? Int(lastResult) : 0
            }
            if n == 0 { break }
        }
        // Ask now: passing the plaintext up may write a response, and SSL_get_error only describes the last call.
        let error = SSL_get_error(ssl, lastResult)
        // A read may produce bytes to send (session tickets, alerts): send them now.
        flushCiphertext(context: context, promise: nil)
        context.flush()
        if plaintext.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(plaintext)) }
        if error == SSL_ERROR_ZERO_RETURN {
            context.close(promise: nil)
        } else if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
            fail(context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let ssl, !closed, case .byteBuffer(let buffer) = unwrapOutboundIn(data) else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        var ok = true
        buffer.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                // Memory BIOs grow as needed, so a write never blocks; it only fails on a broken session.
                let n = SSL_write(ssl, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, 1 << 20)))
                if n <= 0 {
                    ok = false
                    return
                }
                offset += Int(n)
            }
        }
        guard ok else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            fail(context: context)
            return
        }
        flushCiphertext(context: context, promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if let ssl, handshakeDone, !closed, mode == .all {
            closed = true
            _ = SSL_shutdown(ssl)  // queues close_notify
            flushCiphertext(context: context, promise: nil)
            context.flush()
        }
        closed = true
        context.close(mode: mode, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Moves whatever OpenSSL queued for the network into one write.
    private func flushCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard let networkOut else {
            promise?.succeed()
            return
        }
        let pending = Int(BIO_ctrl_pending(networkOut))
        guard pending > 0 else {
            promise?.succeed()
            return
        }
        var out = context.channel.allocator.buffer(capacity: pending)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
            Int(max(0, BIO_read(networkOut, bytes.baseAddress, Int32(pending))))
        }
        context.write(wrapOutboundOut(.byteBuffer(out)), promise: promise)
        if !handshakeDone { context.flush() }
    }

    private func fail(context: ChannelHandlerContext) {
        closed = true
        ERR_clear_error()
        context.close(promise: nil)
    }
}
