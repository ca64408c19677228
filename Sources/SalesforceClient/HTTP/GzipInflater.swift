import CZlib

/// Streaming gzip decoder between libcurl's write callback and the sink.
///
/// We decode ourselves instead of letting libcurl do it because libcurl accepts a gzip body that stops at a member
/// boundary or right after the 10-byte header: a page cut that way reached us as a clean, empty or short body.
/// Here the end is provable: ``ended`` is true only when zlib reached `Z_STREAM_END`, which means it has also
/// checked the member's CRC32 and ISIZE trailer.
///
/// Output goes through one fixed 256 KiB buffer, so memory stays flat whatever the page size.
final class GzipInflater {
    /// The compressed stream is corrupt (zlib's message); the body cannot be a complete page.
    struct Failure: Error {
        var message: String
    }

    // zlib keeps a back-pointer to the stream struct (`state->strm`) and rejects a moved one, so it lives on the heap.
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    /// The last member reached `Z_STREAM_END` and no byte of a further member has arrived since.
    private(set) var ended = false
    private(set) var compressedBytes: Int64 = 0
    private(set) var decodedBytes: Int64 = 0

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        output = .allocate(byteCount: 256 * 1024, alignment: 16)
        // 15 + 32: auto-detect the gzip or zlib wrapper (some servers send zlib under the gzip label).
        let rc = sfpg_inflateInit2(stream, 15 + 32)
        guard rc == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw SalesforceError(code: .network, message: "zlib failed to initialize (inflateInit2 returned \(rc)).")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }

    /// Decodes `input`, handing every decoded piece to `deliver` (valid only during the call).
    /// - Throws: ``Failure`` for corrupt data (including bytes after a member that do not start another member),
    ///   or whatever `deliver` throws.
    func feed(_ input: UnsafeRawBufferPointer, deliver: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        compressedBytes += Int64(input.count)
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: UInt8.self))
        stream.pointee.avail_in = UInt32(input.count)
        // Drop the pointer into curl's buffer on every exit: it is not ours after this call.
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        repeat {
            if ended {
                // Bytes after a member's trailer: gzip allows concatenated members. A reset stream parses them as a
                // new header, so anything else (garbage, padding) fails with a data error below.
                guard stream.pointee.avail_in > 0 else { return }
                inflateReset(stream)
                ended = false
            }
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = UInt32(output.count)
            let rc = inflate(stream, Z_NO_FLUSH)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                decodedBytes += Int64(produced)
                try deliver(UnsafeRawBufferPointer(rebasing: output[..<produced]))
            }
            switch rc {
            case Z_OK: break
            case Z_STREAM_END: ended = true
            // No progress possible: all input used and nothing more to flush. Not an error mid-stream.
            case Z_BUF_ERROR: return
            default:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw Failure(message: "the gzip stream is corrupt after \(compressedBytes) compressed bytes (\(detail))")
            }
        } while stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0
    }
}

@available(*, unavailable)
extension GzipInflater: Sendable {}
