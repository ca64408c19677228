/// The rows one query selected from one snapshot: what a Bulk job's results and a REST cursor page through.
struct Selection: Sendable {
    var query: SOQLQuery
    var table: ObjectTable
    var snapshot: OrgSnapshot
    var rows: RowSource

    init(query: SOQLQuery, table: ObjectTable, snapshot: OrgSnapshot, includeDeleted: Bool) {
        (self.query, self.table, self.snapshot) = (query, table, snapshot)
        rows = QueryEvaluator(query: query, table: table, snapshot: snapshot, includeDeleted: includeDeleted).source()
    }
}

/// Writes a job's rows as CSV. Selection runs once on the thread pool when the job is created; writing happens per
/// results request (see ``JobResults/render(from:maxRecords:maxBytes:total:)``).
enum ResultMaterializer {
    static func materialize(_ selection: Selection, writer: CSVWriter) -> JobResults {
        var header: [UInt8] = []
        writer.appendRow(selection.query.columns.map(\.header), into: &header)
        return JobResults(selection: selection, writer: writer, header: header)
    }

    /// Appends record `i` as one CSV row.
    @inline(__always)
    static func appendRow(
        _ i: Int, query: SOQLQuery, table: ObjectTable, snapshot: OrgSnapshot, writer: CSVWriter, into out: inout [UInt8]
    ) {
        let patch = table.patches.isEmpty ? nil : table.patches[i]
        for (k, column) in query.columns.enumerated() {
            if k > 0 { out.append(writer.delimiter) }
            if case .field(let f, _) = column {
                writer.append(table.value(f, i, patch, snapshot.generator), into: &out)
            } else {
                writer.append(column.value(row: i, table: table, snapshot: snapshot, patch: .some(patch)), into: &out)
            }
        }
        writer.endRow(into: &out)
    }

    /// Byte ranges of each data row (line ending included). Every value is quoted, so a line ending outside quotes
    /// ends a row.
    static func rowBounds(_ page: [UInt8], headerBytes: Int, lineEnding: [UInt8]) -> [Range<Int>] {
        var bounds: [Range<Int>] = []
        var inQuotes = false
        var start = headerBytes
        var k = headerBytes
        let last = lineEnding[lineEnding.count - 1]
        while k < page.count {
            let b = page[k]
            if b == 34 {
                inQuotes.toggle()
            } else if b == last && !inQuotes {
                bounds.append(start..<(k + 1))
                start = k + 1
            }
            k += 1
        }
        return bounds
    }
}
