/// Writes Bulk API 2.0 CSV: every header and value double-quoted, embedded quotes doubled, embedded newlines
/// kept, null as `""`, the job's delimiter and line ending. Bytes go straight into a buffer: this runs for every
/// value of every generated row.
struct CSVWriter: Sendable {
    let delimiter: UInt8
    let lineEnding: [UInt8]

    /// `columnDelimiter` names as the job API spells them.
    static let delimiters: [String: UInt8] = [
        "COMMA": 44, "TAB": 9, "PIPE": 124, "SEMICOLON": 59, "CARET": 94, "BACKQUOTE": 96,
    ]

    init(columnDelimiter: String, lineEnding: String) {
        delimiter = Self.delimiters[columnDelimiter] ?? 44
        self.lineEnding = lineEnding == "CRLF" ? [13, 10] : [10]
    }

    func appendRow(_ values: [String?], into out: inout [UInt8]) {
        for (k, value) in values.enumerated() {
            if k > 0 { out.append(delimiter) }
            append(value, into: &out)
        }
        out.append(contentsOf: lineEnding)
    }

    @inline(__always)
    func append(_ value: String?, into out: inout [UInt8]) {
        out.append(34)
        if let value {
            var value = value
            value.withUTF8 { bytes in
                // Fast path: copy runs without quotes in one go.
                var start = 0
                for k in 0..<bytes.count where bytes[k] == 34 {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...k]))
                    out.append(34)
                    start = k + 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
            }
        }
        out.append(34)
    }

    func endRow(into out: inout [UInt8]) { out.append(contentsOf: lineEnding) }
}
