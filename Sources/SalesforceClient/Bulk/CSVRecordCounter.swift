/// Counts CSV records in a byte stream without keeping it, to check a page against `Sforce-NumberOfRecords`.
///
/// libcurl does not notice a gzip body that stops early on a clean connection close, so a truncated page
/// would otherwise pass as complete. Counting physical line ends outside quotes is enough: an escaped quote
/// (`""`) toggles the state twice.
struct CSVRecordCounter {
    private(set) var lineEnds = 0
    private(set) var insideQuotes = false
    private var lastByte: UInt8?

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for byte in bytes {
            if byte == UInt8(ascii: "\"") {
                insideQuotes.toggle()
            } else if byte == UInt8(ascii: "\n") && !insideQuotes {
                lineEnds += 1
            }
        }
        if let last = bytes.last { lastByte = last }
    }

    /// Lines seen, counting a last line without a line end.
    var lines: Int { lineEnds + (lastByte != nil && lastByte != UInt8(ascii: "\n") ? 1 : 0) }

    /// Why the page looks incomplete, or `nil` when it is consistent with `expectedRecords` (header excluded).
    func inconsistency(expectedRecords: Int?) -> String? {
        if insideQuotes { return "the page ends inside a quoted value" }
        if let expectedRecords, lines > 0, lines - 1 != expectedRecords {
            return "the page has \(lines - 1) records but Sforce-NumberOfRecords says \(expectedRecords)"
        }
        return nil
    }
}
