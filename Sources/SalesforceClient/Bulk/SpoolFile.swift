import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One result page downloaded to a temporary file by a parallel-download worker, to be replayed in order later.
///
/// It is the worker's ``ResultPageConsumer``: a page that fails half-way is truncated and written again, exactly as
/// the sequential path discards a half-copied page. The file holds decoded CSV, header row included.
final class SpoolFile: ResultPageConsumer {
    let path: String
    private let descriptor: Int32
    private(set) var began = false
    private(set) var recordCount = 0

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SalesforceError(
                code: .network,
                message: "Could not create the spool file \(path) for a result page: \(String(cString: strerror(errno))). "
                    + "Check that the temporary directory (TMPDIR) exists, is writable and has free space.")
        }
    }

    deinit { close(descriptor) }

    func beginPage(_ number: Int) throws { began = true }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw SalesforceError(
                    code: .network,
                    message: "Writing the spool file \(path) failed: \(String(cString: strerror(errno))). "
                        + "Free space in the temporary directory (TMPDIR) or lower the download connections.")
            }
            remaining -= written
            base += written
        }
    }

    func finishPage(_ number: Int, recordCount: Int) throws { self.recordCount = recordCount }

    func discardPage(_ number: Int) throws {
        began = false
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) == 0 else {
            throw SalesforceError(
                code: .network, message: "Could not truncate the spool file \(path) to re-fetch its page.")
        }
    }

    /// Feeds the file to `consumer` in 256 KiB reads (the chunk size that measured best for COPY).
    static func replay(
        _ path: String, buffer: UnsafeMutableRawBufferPointer, cancellation: CancellationFlag,
        into consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw SalesforceError(code: .network, message: "The spool file \(path) vanished before it was loaded.")
        }
        defer { close(descriptor) }
        var total: Int64 = 0
        while true {
            if cancellation.isCancelled { throw SalesforceError.cancelled() }
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw SalesforceError(
                    code: .network, message: "Reading the spool file \(path) failed: \(String(cString: strerror(errno))).")
            }
            if count == 0 { return total }
            try consume(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            total += Int64(count)
        }
    }
}

@available(*, unavailable)
extension SpoolFile: Sendable {}
