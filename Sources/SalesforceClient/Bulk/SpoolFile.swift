import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One result page downloaded to a temporary file by a parallel-download worker, to be replayed in order later.
///
/// It is the worker's ``ResultPageConsumer``: a page that fails half-way is truncated and written again, exactly as
/// the sequential path discards a half-copied page. The file holds decoded CSV, header row included.
///
/// The file is unlinked right after it is created and used only through its descriptor, which the loader takes
/// over (``takeDescriptor()``) and closes after the replay. So the data never outlives the process: not after a
/// second Ctrl-C, not after SIGKILL or a crash, when the kernel frees it with the descriptor. Every write is
/// charged to the ``PageSpoolQueue`` byte budget first.
final class SpoolFile: ResultPageConsumer {
    let path: String
    private var descriptor: Int32
    private let queue: PageSpoolQueue?
    private let index: Int
    private(set) var began = false
    private(set) var recordCount = 0

    init(path: String, queue: PageSpoolQueue? = nil, index: Int = 0) throws {
        self.path = path
        self.queue = queue
        self.index = index
        descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SalesforceError(
                code: .network,
                message: "Could not create the spool file \(path) for a result page: "
                    + "\(String(cString: strerror(errno))). Check that the spool directory (--spool-dir, "
                    + "SFPG_SPOOL_DIR or TMPDIR) exists, is writable and has free space.")
        }
        unlink(path)
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// Hands the open descriptor to the caller, who must close it; this object no longer does.
    func takeDescriptor() -> Int32 {
        defer { descriptor = -1 }
        return descriptor
    }

    func beginPage(_ number: Int) throws { began = true }

    func consume(_ bytes: UnsafeRawBufferPointer) throws {
        guard var base = bytes.baseAddress else { return }
        try queue?.charge(index, Int64(bytes.count))
        var remaining = bytes.count
        while remaining > 0 {
            let written = write(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw SalesforceError(
                    code: .network,
                    message: "Writing the spool file \(path) failed: \(String(cString: strerror(errno))). Free space "
                        + "in the spool directory (--spool-dir, SFPG_SPOOL_DIR or TMPDIR), lower SF_SPOOL_MAX_BYTES or the "
                        + "download connections.")
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
        queue?.release(index)
    }

    /// Feeds the file behind `descriptor` from its start to `consumer` in 256 KiB reads (the chunk size that
    /// measured best for COPY). The descriptor stays open; the caller closes it.
    static func replay(
        descriptor: Int32, buffer: UnsafeMutableRawBufferPointer, cancellation: CancellationFlag,
        into consume: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int64 {
        var total: Int64 = 0
        while true {
            if cancellation.isCancelled { throw SalesforceError.cancelled() }
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(total))
            if count < 0 {
                if errno == EINTR { continue }
                throw SalesforceError(
                    code: .network, message: "Reading a spool file failed: \(String(cString: strerror(errno))).")
            }
            if count == 0 { return total }
            try consume(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            total += Int64(count)
        }
    }
}

@available(*, unavailable)
extension SpoolFile: Sendable {}
