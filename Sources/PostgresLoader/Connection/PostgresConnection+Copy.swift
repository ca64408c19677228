import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension PostgresConnection {
    /// Runs a `COPY … FROM STDIN` statement and streams the body's bytes into it.
    ///
    /// If `body` throws, sfpg sends CopyFail (never CopyDone, so a half-sent COPY can never succeed) and rethrows
    /// the body's error — unless the server had already rejected the data, in which case the server's error
    /// (with SQLSTATE and `CONTEXT: COPY …, line N`) is thrown.
    /// - Returns: the number of rows the server copied.
    /// - Throws: `PostgresError` `.copy` for a rejected COPY, `.connection` if the session dies, or the body's error.
    @discardableResult
    public func copyIn(_ copyStatement: String, _ body: (CopyInStream) throws -> Void) throws -> Int {
        let stream = try beginCopyIn(copyStatement)
        do {
            try body(stream)
        } catch {
            throw abortCopyIn(stream, because: error)
        }
        return try finishCopyIn(stream)
    }

    /// Starts a `COPY … FROM STDIN`; the caller writes to the stream and ends it with ``finishCopyIn(_:)`` or
    /// ``abortCopyIn(_:because:)``. For callers that are pushed bytes (a curl callback) and cannot hand
    /// ``copyIn(_:_:)`` a body.
    public func beginCopyIn(_ copyStatement: String) throws -> CopyInStream {
        _ = try consume(PQexec(handle, copyStatement), expecting: [PGRES_COPY_IN], code: .copy)
        return CopyInStream(connection: self)
    }

    /// Ends the COPY with CopyDone. - Returns: the rows the server copied. - Throws: the server's rejection.
    @discardableResult
    public func finishCopyIn(_ stream: CopyInStream) throws -> Int {
        if let serverError = endCopy(failure: nil) { throw serverError }
        return stream.copiedRows
    }

    /// Ends the COPY with CopyFail (never CopyDone, so a half-sent COPY can never succeed) and returns the error
    /// to throw: the server's own (with SQLSTATE and `CONTEXT: COPY …, line N`) if it had already rejected the
    /// data, else `error`.
    public func abortCopyIn(_ stream: CopyInStream, because error: any Error) -> any Error {
        let serverError = endCopy(failure: "sfpg: \(error)")
        if error is CopyInStream.ServerRejected || error is CopyInStream.SendFailed, let serverError {
            return serverError
        }
        return error
    }

    /// Ends a COPY IN that a failed caller left open (CopyFail, so nothing of it is kept) and drains its results;
    /// a no-op when no statement is in progress. Afterwards the transaction, if any, is in the aborted state.
    func abandonCopy() {
        guard PQtransactionStatus(handle) == PQTRANS_ACTIVE else { return }
        _ = endCopy(failure: "sfpg: the run ended while this page was still being copied")
    }

    /// Ends COPY IN (CopyDone, or CopyFail with `failure`) and drains every result. Returns the first error.
    private func endCopy(failure: String?) -> PostgresError? {
        var firstError: PostgresError?
        if PQputCopyEnd(handle, failure) != 1 {
            firstError = PostgresError(.connection, "could not end COPY: \(Self.connectionMessage(self))")
        }
        var sawResult = false
        while let result = PQgetResult(handle) {
            sawResult = true
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK {
                lastCopiedRows = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if status == PGRES_COPY_IN {
                // libpq still thinks COPY is open: the end message was not sent; give up on this session.
                PQclear(result)
                if firstError == nil {
                    firstError = PostgresError(.connection, "COPY could not be ended: connection is unusable")
                }
                break
            } else if firstError == nil || firstError?.code == .connection {
                firstError = Self.error(from: result, code: .copy, connection: self)
            }
            PQclear(result)
        }
        if !sawResult && firstError == nil {
            firstError = PostgresError(.connection, Self.connectionMessage(self))
        }
        return firstError
    }
}

/// The write side of one `COPY … FROM STDIN`. Valid only inside ``PostgresConnection/copyIn(_:_:)``'s body.
public final class CopyInStream {
    struct ServerRejected: Error, CustomStringConvertible {
        var description: String { "the server rejected the COPY data" }
    }
    struct SendFailed: Error, CustomStringConvertible {
        var description: String { "sending COPY data failed" }
    }

    /// How many bytes to send between checks for an early ErrorResponse (native-io-notes §5.1).
    static let pollInterval = 4 << 20

    private let connection: PostgresConnection
    private var bytesSinceCheck = 0
    /// Total bytes sent so far.
    public private(set) var bytesWritten = 0

    init(connection: PostgresConnection) {
        self.connection = connection
    }

    var copiedRows: Int { connection.lastCopiedRows }

    /// Sends raw bytes (blocking: a slow server slows the caller, which is the back-pressure).
    /// - Throws: as soon as the server is seen to have rejected the data, or the connection fails.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var offset = 0
        while offset < bytes.count {
            // PQputCopyData takes an Int32 length.
            let length = min(bytes.count - offset, 1 << 30)
            let pointer = base.advanced(by: offset).assumingMemoryBound(to: CChar.self)
            if PQputCopyData(connection.handle, pointer, Int32(length)) != 1 {
                throw SendFailed()
            }
            offset += length
        }
        bytesWritten += bytes.count
        bytesSinceCheck += bytes.count
        if bytesSinceCheck >= Self.pollInterval {
            bytesSinceCheck = 0
            if serverHasSpoken() { throw ServerRejected() }
        }
    }

    /// During COPY IN the server sends nothing until the end unless it failed, so readable input almost
    /// always means an ErrorResponse: stop sending the rest of a page the server is discarding anyway.
    private func serverHasSpoken() -> Bool {
        let socket = PQsocket(connection.handle)
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }
}

@available(*, unavailable)
extension CopyInStream: Sendable {}
