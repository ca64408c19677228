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
    /// Cap of a buffered 2xx body (describe, job JSON, token). Describes of large objects run to several MB, so
    /// the cap is generous; hitting it aborts the transfer and is reported (``successBodyLimitExceeded``), never
    /// handed on cut short, since a cut JSON body is either unparseable or, worse, parseable and incomplete.
    let maxSuccessBodyBytes: Int
    /// Error bodies are read only for their message: the first MiB is kept and the rest discarded (and noted in
    /// ``errorBodyCut``), so a misbehaving server cannot fill memory.
    static let maxErrorBodyBytes = 1 << 20
    /// The cap a 2xx body exceeded; the transfer was aborted.
    var successBodyLimitExceeded: Int?
    /// Whether a non-2xx body was longer than ``maxErrorBodyBytes`` and only its start kept.
    var errorBodyCut = false

    var status = 0
    var buffered: [UInt8] = []
    var sinkError: (any Error)?
    var streamedBytes: Int64 = 0
    var sinkStarted = false
    var cancelledDuringTransfer = false
    /// Body bytes as they came off the wire (before gzip decoding), to compare with `Content-Length`.
    var rawBytes: Int64 = 0
    /// Set on the first body byte from `Content-Encoding`: `nil` for an identity body.
    var inflater: GzipInflater?
    private var encodingKnown = false
    /// Why the transfer was aborted as a body that cannot be a complete page (corrupt gzip); retryable.
    var bodyProblem: String?

    init(
        handle: UnsafeMutableRawPointer, cancellation: CancellationFlag, honorCancellation: Bool,
        maxSuccessBodyBytes: Int, sink: ((UnsafeRawBufferPointer) throws -> Void)?
    ) {
        self.handle = handle
        self.maxSuccessBodyBytes = maxSuccessBodyBytes
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
        rawBytes += Int64(bytes.count)
        // The status decides before any byte reaches the sink: an error body must never end up in a COPY.
        let streaming = sink != nil && (200..<300).contains(status)
        if !encodingKnown {
            encodingKnown = true
            switch contentEncoding(of: handle) {
            case "", "identity": break
            case "gzip", "x-gzip":
                do {
                    inflater = try GzipInflater()
                } catch {
                    sinkError = error
                    return 0
                }
            case let other:
                // A streamed page we cannot decode must not reach the consumer as if it were CSV.
                guard streaming else { break }
                sinkError = SalesforceError(
                    code: .protocolViolation,
                    message: "Salesforce sent a result page with Content-Encoding '\(other)'; only gzip and "
                        + "uncompressed bodies are understood.",
                    httpStatus: status)
                return 0
            }
        }
        do {
            if let inflater {
                try inflater.feed(bytes) { try deliver($0, streaming: streaming) }
            } else {
                try deliver(bytes, streaming: streaming)
            }
        } catch let failure as GzipInflater.Failure {
            guard streaming else {
                // An error body we cannot decode is only used for its message: keep whatever decoded.
                inflater = nil
                return bytes.count
            }
            bodyProblem = failure.message
            return 0
        } catch is BodyLimitExceeded {
            return 0
        } catch {
            sinkError = error
            return 0
        }
        return bytes.count
    }

    private struct BodyLimitExceeded: Error {}

    private func deliver(_ bytes: UnsafeRawBufferPointer, streaming: Bool) throws {
        if streaming, let sink {
            sinkStarted = true
            try sink(bytes)
            streamedBytes += Int64(bytes.count)
        } else if (200..<300).contains(status) {
            guard buffered.count + bytes.count <= maxSuccessBodyBytes else {
                successBodyLimitExceeded = maxSuccessBodyBytes
                throw BodyLimitExceeded()
            }
            buffered.append(contentsOf: bytes)
        } else if buffered.count + bytes.count <= Self.maxErrorBodyBytes {
            buffered.append(contentsOf: bytes)
        } else {
            buffered.append(contentsOf: bytes.prefix(max(0, Self.maxErrorBodyBytes - buffered.count)))
            errorBodyCut = true
        }
    }

    /// Why a streamed 2xx body that libcurl finished without error still cannot be proven complete, or `nil`.
    ///
    /// gzip proves its own end (``GzipInflater/ended``: `Z_STREAM_END` after a verified trailer). A plain body is
    /// complete when it has exactly its `Content-Length`, or when chunked (HTTP/1.1) or HTTP/2+ framing ended it,
    /// which libcurl enforces (a missing last chunk is a transfer error). A close-delimited HTTP/1.x body cannot be
    /// told apart from a dropped connection, so it never counts as complete.
    func endProblem() -> String? {
        if let bodyProblem { return bodyProblem }
        var length: curl_off_t = -1
        _ = sfpg_curl_getinfo_off(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
        if length >= 0 && rawBytes != Int64(length) {
            return "received \(rawBytes) of the \(length) bytes its Content-Length announced"
        }
        if let inflater {
            guard inflater.ended else {
                return "the gzip stream stopped before its end (\(inflater.compressedBytes) compressed bytes decoded "
                    + "to \(inflater.decodedBytes) bytes, no end-of-stream and checksum)"
            }
            return nil
        }
        if length >= 0 { return nil }
        var version = 0
        _ = sfpg_curl_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        let chunked = responseHeader(handle, "Transfer-Encoding")?.lowercased().contains("chunked") ?? false
        // CURL_HTTP_VERSION_2_0 is 3; HTTP/2 and HTTP/3 frame the end of every response.
        if version >= 3 || chunked { return nil }
        return "the body had neither Content-Length nor chunked framing, so its end cannot be told from a dropped "
            + "connection (\(rawBytes) bytes received)"
    }

    func shouldAbort() -> Bool {
        if honorCancellation && cancellation.isCancelled {
            cancelledDuringTransfer = true
            return true
        }
        return false
    }
}

/// The response's `Content-Encoding`, lower-cased and trimmed; empty when absent.
func contentEncoding(of handle: UnsafeMutableRawPointer) -> String {
    (responseHeader(handle, "Content-Encoding") ?? "").trimmingSpaces().lowercased()
}

/// A header of the transfer's final response (`curl_easy_header` also works from inside the write callback).
func responseHeader(_ handle: UnsafeMutableRawPointer, _ name: String) -> String? {
    var output: UnsafeMutablePointer<curl_header>?
    let result = curl_easy_header(handle, name, 0, UInt32(CURLH_HEADER), -1, &output)
    guard result == CURLHE_OK, let output, let value = output.pointee.value else { return nil }
    return String(cString: value)
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view = view.dropFirst() }
        while view.last == " " || view.last == "\t" { view = view.dropLast() }
        return String(view)
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
