import CCurl

/// State shared with libcurl's C callbacks for one transfer, passed as an unretained pointer.
///
/// The owning ``CurlEasyHandle/perform(_:sink:)`` keeps it alive with `withExtendedLifetime` for the whole
/// `curl_easy_perform`, and only the thread running that call touches it.
final class TransferContext {
    let handle: UnsafeMutableRawPointer
    let cancellation: CancellationFlag
    let honorCancellation: Bool
    let sink: ((UnsafeRawBufferPointer) throws -> Void)?
    /// Error bodies are small JSON/HTML; cap them so a misbehaving server cannot fill memory.
    let maxBufferedBytes = 1 << 20

    var status = 0
    var buffered: [UInt8] = []
    var sinkError: (any Error)?
    var streamedBytes: Int64 = 0
    var sinkStarted = false
    var cancelledDuringTransfer = false

    init(
        handle: UnsafeMutableRawPointer, cancellation: CancellationFlag, honorCancellation: Bool,
        sink: ((UnsafeRawBufferPointer) throws -> Void)?
    ) {
        self.handle = handle
        self.cancellation = cancellation
        self.honorCancellation = honorCancellation
        self.sink = sink
    }

    /// Returns the number of bytes taken; anything else makes libcurl abort with `CURLE_WRITE_ERROR`.
    func receive(_ bytes: UnsafeRawBufferPointer) -> Int {
        if status == 0 {
            var code = 0
            _ = sfpg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
            status = code
        }
        // The status decides before any byte reaches the sink: an error body must never end up in a COPY.
        if let sink, (200..<300).contains(status) {
            do {
                sinkStarted = true
                try sink(bytes)
                streamedBytes += Int64(bytes.count)
            } catch {
                sinkError = error
                return 0
            }
        } else if buffered.count < maxBufferedBytes {
            buffered.append(contentsOf: bytes.prefix(maxBufferedBytes - buffered.count))
        }
        return bytes.count
    }

    func shouldAbort() -> Bool {
        if honorCancellation && cancellation.isCancelled {
            cancelledDuringTransfer = true
            return true
        }
        return false
    }
}

/// libcurl write callback; `userdata` is an unretained ``TransferContext``.
func sfpgCurlWrite(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?
) -> Int {
    guard let userdata else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    return context.receive(UnsafeRawBufferPointer(start: data, count: length))
}

/// libcurl progress callback: a non-zero return aborts the transfer with `CURLE_ABORTED_BY_CALLBACK`.
func sfpgCurlProgress(
    _ userdata: UnsafeMutableRawPointer?, _ dlTotal: curl_off_t, _ dlNow: curl_off_t, _ ulTotal: curl_off_t,
    _ ulNow: curl_off_t
) -> Int32 {
    guard let userdata else { return 0 }
    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    return context.shouldAbort() ? 1 : 0
}
