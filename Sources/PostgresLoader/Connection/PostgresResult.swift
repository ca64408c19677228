import CLibPQ

/// The fully read, text-format result of one statement.
public struct PostgresResult: Sendable {
    /// Column names, in result order.
    public var columns: [String]
    /// Rows of text values; `nil` is SQL NULL.
    public var rows: [[String?]]
    /// Rows affected by INSERT/UPDATE/DELETE/COPY (from `PQcmdTuples`), else the number of rows returned.
    public var affectedRows: Int

    public init(columns: [String] = [], rows: [[String?]] = [], affectedRows: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// The value at `row` in the column named `column`, or `nil` if it is NULL or there is no such column.
    public subscript(row: Int, column: String) -> String? {
        guard row >= 0, row < rows.count, let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }

    /// Copies everything out of a libpq result so the `PGresult` can be freed at once.
    init(copying result: OpaquePointer) {
        // COPY results report fields but carry no names or values.
        let isData = PQresultStatus(result) == PGRES_TUPLES_OK
        let columnCount = isData ? Int(PQnfields(result)) : 0
        let rowCount = isData ? Int(PQntuples(result)) : 0
        columns = (0..<columnCount).map { PQfname(result, Int32($0)).map { String(cString: $0) } ?? "" }
        rows = (0..<rowCount).map { row in
            (0..<columnCount).map { column -> String? in
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 { return nil }
                return String(cString: PQgetvalue(result, Int32(row), Int32(column)))
            }
        }
        let tuples = String(cString: PQcmdTuples(result))
        affectedRows = Int(tuples) ?? rowCount
    }
}
