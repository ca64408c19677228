#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Receives the raw CSV bytes of one Bulk API result page and streams them into the page's COPY.
///
/// Each page starts with its own header row: it is checked (case-insensitively) against the mapping's source
/// fields and stripped here, so the COPY sees data rows only. NUL bytes, which PostgreSQL text rejects, are
/// dropped on the way. A page of zero bytes is a valid empty page.
public final class PageWriter {
    let stream: CopyInStream
    private let expectedFields: [String]
    let pageNumber: Int
    /// Whether the COPY behind this page has been ended (CopyDone or CopyFail sent).
    var ended = false
    private var header: [UInt8] = []
    private var headerChecked = false
    /// Decoded bytes written, header included (for a resumable run's ledger).
    private(set) var bytes: Int64 = 0

    init(stream: CopyInStream, expectedFields: [String], pageNumber: Int) {
        self.stream = stream
        self.expectedFields = expectedFields
        self.pageNumber = pageNumber
    }

    /// Passes the next bytes of the page, in any chunking.
    /// - Throws: `PostgresError` `.copy` for a header that does not match, or an early server rejection.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        self.bytes += Int64(bytes.count)
        var rest = bytes
        if !headerChecked {
            guard let newline = memchr(base, Int32(UInt8(ascii: "\n")), bytes.count) else {
                header.append(contentsOf: bytes)
                if header.count > 1 << 20 {
                    throw PostgresError(.copy, "page \(pageNumber): no end of the CSV header line in the first MiB")
                }
                return
            }
            let headerEnd = base.distance(to: UnsafeRawPointer(newline))
            header.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<headerEnd]))
            try checkHeader()
            rest = UnsafeRawBufferPointer(rebasing: bytes[(headerEnd + 1)...])
        }
        try send(rest)
    }

    /// Called after the last chunk: a page that is only a header without a trailing newline still gets checked.
    func finish() throws {
        if !headerChecked && !header.isEmpty { try checkHeader() }
    }

    private func send(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // The runs between NULs go out as they are: with NULs in ~1% of long-text values nearly every 256 KiB chunk
        // holds one, and filtering byte by byte into a new array was a third of the client's CPU (perf, 1M rows).
        var start = 0
        while start < bytes.count, let nul = memchr(base + start, 0, bytes.count - start) {
            let end = base.distance(to: UnsafeRawPointer(nul))
            if end > start { try stream.write(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) }
            start = end + 1
        }
        if start < bytes.count { try stream.write(UnsafeRawBufferPointer(rebasing: bytes[start...])) }
    }

    private func checkHeader() throws {
        headerChecked = true
        var line = header.filter { $0 != 0 }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        let got = Self.fields(ofHeader: String(decoding: line, as: UTF8.self))
        if got.map({ $0.lowercased() }) != expectedFields.map({ $0.lowercased() }) {
            var shown = got.joined(separator: ",")
            if shown.count > 500 { shown = String(shown.prefix(500)) + "…" }
            throw PostgresError(
                .copy,
                "page \(pageNumber): the CSV header does not match the job's fields; expected "
                    + "\(expectedFields.joined(separator: ",")), got \(shown)",
                hint: "The query's SELECT list must be the mapping's fields in order: key, modstamp, is-deleted, columns.")
        }
    }

    /// Splits one CSV header line; field names never contain newlines, but may be quoted.
    static func fields(ofHeader line: String) -> [String] {
        // An unbalanced header still yields its fields, so the mismatch message can show what arrived.
        (line.splitOutsideQuotes(at: ",") ?? [QuotedPart(text: line, wasQuoted: false)]).map(\.text)
    }
}

@available(*, unavailable)
extension PageWriter: Sendable {}
