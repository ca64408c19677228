import Dispatch
import Synchronization

/// Turns a parsed query over a snapshot into stored result pages. Runs on the thread pool, never on an event loop.
enum ResultMaterializer {
    static func materialize(
        query: SOQLQuery, table: ObjectTable, snapshot: OrgSnapshot, includeDeleted: Bool, writer: CSVWriter,
        pageSize: Int
    ) throws -> JobResults {
        let rows = QueryEvaluator(query: query, table: table, snapshot: snapshot, includeDeleted: includeDeleted).rows()
        let header: [UInt8] = {
            var header: [UInt8] = []
            writer.appendRow(query.columns.map(\.header), into: &header)
            return header
        }()
        // Pages are independent, so build them on every core: generation speed matters for benchmarks.
        let pageCount = (rows.count + pageSize - 1) / pageSize
        let built = Mutex([ResultPage?](repeating: nil, count: pageCount))
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: pageCount) { k in
            let start = k * pageSize
            let end = min(start + pageSize, rows.count)
            var buffer = header
            buffer.reserveCapacity(header.count + (end - start) * 256)
            var sizes: [UInt32] = []
            sizes.reserveCapacity(end - start)
            appendRows(
                rows[start..<end], query: query, table: table, snapshot: snapshot, writer: writer, into: &buffer,
                rowSizes: &sizes)
            do {
                let page = ResultPage(
                    gzip: try Gzip.compress(buffer), rows: end - start, rawBytes: buffer.count, rowSizes: sizes)
                built.withLock { $0[k] = page }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        let pages = built.withLock { $0.compactMap { $0 } }
        return JobResults(header: header, pages: pages, pageSize: pageSize, totalRows: rows.count, lineEnding: writer.lineEnding,
            delimiter: writer.delimiter)
    }

    static func appendRows(
        _ rows: ArraySlice<Int>, query: SOQLQuery, table: ObjectTable, snapshot: OrgSnapshot, writer: CSVWriter,
        into out: inout [UInt8], rowSizes: inout [UInt32]
    ) {
        let hasPatches = !table.patches.isEmpty
        let generator = snapshot.generator
        // Plain field indices up front (-1 = relationship column), so the row loop does not copy enum payloads.
        let plan = query.columns.map { column -> Int in
            if case .field(let f, _) = column { return f }
            return -1
        }
        for i in rows {
            let rowStart = out.count
            defer { rowSizes.append(UInt32(out.count - rowStart)) }
            let patch = hasPatches ? table.patches[i] : nil
            for k in 0..<plan.count {
                if k > 0 { out.append(writer.delimiter) }
                let f = plan[k]
                if f >= 0 {
                    writer.append(table.value(f, i, patch, generator), into: &out)
                } else {
                    writer.append(
                        query.columns[k].value(row: i, table: table, snapshot: snapshot, patch: .some(patch)), into: &out)
                }
            }
            writer.endRow(into: &out)
        }
    }

    /// Rows `[offset, offset + count)` as one CSV body with a header, cut out of the stored pages (for requests
    /// whose `maxRecords` differs from the stored page size).
    static func slice(_ results: JobResults, offset: Int, count: Int) throws -> [UInt8] {
        var out = results.header
        var row = offset
        let end = min(offset + count, results.totalRows)
        while row < end {
            let pageIndex = row / results.pageSize
            let page = try Gzip.decompress(results.pages[pageIndex].gzip)
            let bounds = rowBounds(page, headerBytes: results.header.count, lineEnding: results.lineEnding)
            let first = row - pageIndex * results.pageSize
            let last = min(end - pageIndex * results.pageSize, bounds.count)
            out.append(contentsOf: page[bounds[first].lowerBound..<bounds[last - 1].upperBound])
            row = pageIndex * results.pageSize + last
        }
        return out
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
