import CZlib

/// gzip compression for stored result pages and decompression for clients that did not ask for gzip.
enum Gzip {
    struct Failure: Error { var code: Int32 }

    /// gzip (RFC 1952) bytes of `input`. Level 1: pages are compressed once per job and speed matters more.
    static func compress(_ input: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        // zlib keeps a back-pointer into the stream struct, so it needs a stable heap address.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        defer { stream.deallocate() }
        stream.initialize(to: z_stream())
        var rc = sfpg_deflateInit2(stream, level, 15 + 16)
        guard rc == Z_OK else { throw Failure(code: rc) }
        defer { deflateEnd(stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, UInt(input.count))) + 32)
        var produced = 0
        rc = input.withUnsafeBufferPointer { inBuf in
            output.withUnsafeMutableBufferPointer { outBuf in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
                stream.pointee.avail_in = UInt32(inBuf.count)
                stream.pointee.next_out = outBuf.baseAddress
                stream.pointee.avail_out = UInt32(outBuf.count)
                let rc = deflate(stream, Z_FINISH)
                produced = outBuf.count - Int(stream.pointee.avail_out)
                return rc
            }
        }
        guard rc == Z_STREAM_END else { throw Failure(code: rc) }
        output.removeLast(output.count - produced)
        return output
    }

    /// The bytes of a gzip member.
    static func decompress(_ input: [UInt8]) throws -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        defer { stream.deallocate() }
        stream.initialize(to: z_stream())
        var rc = sfpg_inflateInit2(stream, 15 + 32)
        guard rc == Z_OK else { throw Failure(code: rc) }
        defer { inflateEnd(stream) }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 6)
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        try input.withUnsafeBufferPointer { inBuf in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress)
            stream.pointee.avail_in = UInt32(inBuf.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { outBuf in
                    stream.pointee.next_out = outBuf.baseAddress
                    stream.pointee.avail_out = UInt32(outBuf.count)
                    rc = inflate(stream, Z_NO_FLUSH)
                    return outBuf.count - Int(stream.pointee.avail_out)
                }
                guard rc == Z_OK || rc == Z_STREAM_END else { throw Failure(code: rc) }
                output.append(contentsOf: chunk[0..<produced])
            } while rc != Z_STREAM_END
        }
        return output
    }
}
