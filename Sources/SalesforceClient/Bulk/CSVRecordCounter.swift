/// Checks a decoded result page for completeness without keeping it: counts records, and remembers how it ends.
///
/// A body can be framed correctly and still be a cut page (a server or proxy that ends a gzip stream early, or a
/// page cut right after a field delimiter): loaded as is, its last field would silently become NULL. Salesforce
/// ends every record with the job's line ending, so a complete page ends with `\n` outside quotes (`\r\n` too), and
/// its records (line ends outside quotes, minus the header line) match `Sforce-NumberOfRecords`. Counting physical
/// line ends outside quotes is enough: an escaped quote (`""`) toggles the state twice.
struct CSVRecordCounter {
    private(set) var lineEnds = 0
    private(set) var insideQuotes = false
    private(set) var bytes: Int64 = 0
    private var lastByte: UInt8?

    mutating func add(_ chunk: UnsafeRawBufferPointer) {
        var quoted = insideQuotes
        var ends = 0
        for byte in chunk {
            if byte == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if byte == UInt8(ascii: "\n") && !quoted {
                ends += 1
            }
        }
        insideQuotes = quoted
        lineEnds += ends
        bytes += Int64(chunk.count)
        if let last = chunk.last { lastByte = last }
    }

    /// Data records seen: complete lines minus the header line.
    var records: Int { max(lineEnds - 1, 0) }

    /// Why the page cannot be complete, or `nil` when it is.
    /// - Parameters:
    ///   - announced: the page's `Sforce-NumberOfRecords`, if sent.
    ///   - jobIsEmpty: the job reported 0 records, so an empty body without the header is a complete page.
    func problem(announced: Int?, jobIsEmpty: Bool) -> String? {
        if bytes == 0 {
            // Salesforce may send a zero-row job's only page as an empty body; anything announced must arrive.
            switch announced {
            case 0?: return nil
            case let count?: return "the page is empty (0 bytes decoded) but Sforce-NumberOfRecords says \(count)"
            case nil:
                return jobIsEmpty
                    ? nil : "the page is empty (0 bytes decoded) and has no Sforce-NumberOfRecords to say it may be"
            }
        }
        if insideQuotes { return "the page ends inside a quoted value after \(bytes) bytes" }
        if lastByte != UInt8(ascii: "\n") {
            return "the page does not end with a line ending, so its last record was cut (\(bytes) bytes, "
                + "\(records) complete records\(announced.map { ", Sforce-NumberOfRecords says \($0)" } ?? ""))"
        }
        if let announced, records != announced {
            return "the page has \(records) records but Sforce-NumberOfRecords says \(announced)"
        }
        return nil
    }
}
