extension LoadRun {
    /// Streams one Bulk API result page into staging, under its own savepoint.
    ///
    /// If anything fails (the download broke half-way, the header is wrong, a value is bad), the page is rolled
    /// back to its savepoint and the error rethrown; the run's transaction stays usable, so the caller may
    /// retry the page or ``fail(_:status:salesforceJobId:apiCalls:)`` the run.
    /// - Parameters:
    ///   - pageNumber: 1-based, for error messages.
    ///   - body: writes the page's raw CSV bytes, header row included.
    /// - Returns: the number of data rows copied.
    /// - Throws: `PostgresError` `.copy` naming the page, line, field and SQLSTATE of a rejected value.
    @discardableResult
    public func copyPage(_ pageNumber: Int, _ body: (PageWriter) throws -> Void) throws -> Int {
        let page = try beginPage(pageNumber)
        do {
            try body(page)
        } catch {
            throw abort(page, because: error)
        }
        return try finishPage(page)
    }

    /// Opens one page's COPY under its own savepoint; feed it with ``PageWriter/write(_:)`` and close it with
    /// ``finishPage(_:)`` or ``discardPage(_:)``. The push-style twin of ``copyPage(_:_:)``, for a download
    /// that hands over bytes from a callback.
    public func beginPage(_ pageNumber: Int) throws -> PageWriter {
        guard state == .loading else {
            throw PostgresError(.configuration, "job '\(jobName)': a page needs begin() first")
        }
        try connection.execute("SAVEPOINT sfpg_page")
        do {
            let stream = try connection.beginCopyIn(plan.copySQL)
            return PageWriter(stream: stream, expectedFields: mapping.sourceFields, pageNumber: pageNumber)
        } catch {
            if connection.isConnected { _ = try? connection.execute("ROLLBACK TO SAVEPOINT sfpg_page") }
            throw error
        }
    }

    /// Ends the page's COPY and keeps its rows. On failure the page is rolled back to its savepoint (the run's
    /// transaction stays usable) and the error names the page, line and field of a rejected value.
    /// - Returns: the number of data rows copied.
    @discardableResult
    public func finishPage(_ page: PageWriter) throws -> Int {
        let rows: Int
        do {
            try page.finish()
            page.ended = true
            rows = try connection.finishCopyIn(page.stream)
        } catch {
            throw abort(page, because: error)
        }
        try connection.execute("RELEASE SAVEPOINT sfpg_page")
        stagedRows += rows
        return rows
    }

    /// Drops a page whose download broke half-way, so it can be fetched again from its start.
    public func discardPage(_ page: PageWriter) throws {
        struct Discarded: Error, CustomStringConvertible {
            var description: String { "page discarded for re-fetch" }
        }
        if !page.ended {
            page.ended = true
            _ = connection.abortCopyIn(page.stream, because: Discarded())
        }
        try connection.execute("ROLLBACK TO SAVEPOINT sfpg_page")
    }

    /// Ends a failing page (CopyFail), rolls it back and returns the error to throw, described when the server
    /// rejected a row. A write that failed (bad header, early rejection) must come here before anything else
    /// runs on the connection, which is still in COPY mode.
    public func abort(_ page: PageWriter, because error: any Error) -> any Error {
        var error = error
        if !page.ended {
            page.ended = true
            error = connection.abortCopyIn(page.stream, because: error)
        }
        if connection.isConnected { _ = try? connection.execute("ROLLBACK TO SAVEPOINT sfpg_page") }
        if let error = error as? PostgresError, error.code == .copy, error.context != nil {
            return describeRejectedRow(error, pageNumber: page.pageNumber)
        }
        return error
    }

    /// Turns `CONTEXT: COPY sfpg_staging, line 3, column birthdate: "…"` into page, line within the page (+1 for
    /// the header sfpg stripped) and the Salesforce field. PostgreSQL counts CSV records here (measured on 15): a
    /// value with embedded newlines counts once, so this is the physical line only if no earlier value had one.
    func describeRejectedRow(_ error: PostgresError, pageNumber: Int) -> PostgresError {
        guard let context = error.context, let line = Self.number(after: ", line ", in: context) else { return error }
        var location = "page \(pageNumber), line \(line + 1)"
        if let column = Self.columnName(in: context) {
            let field = plan.field(forColumn: column) ?? column
            location += ", field \(field) (column \(column))"
        }
        var described = error
        described.message = "\(location): \(error.message)" + (error.sqlState.map { " (SQLSTATE \($0))" } ?? "")
        return described
    }

    static func number(after marker: String, in text: String) -> Int? {
        guard let rest = suffix(of: text, after: marker) else { return nil }
        return Int(rest.prefix { $0.isNumber })
    }

    static func columnName(in context: String) -> String? {
        guard let rest = suffix(of: context, after: ", column ") else { return nil }
        let name = rest.prefix { $0 != ":" && $0 != "\n" }
        return name.isEmpty ? nil : String(name)
    }

    /// The text after the first occurrence of `marker` (no Foundation in this target).
    static func suffix(of text: String, after marker: String) -> Substring? {
        let markerBytes = Array(marker.utf8)
        let bytes = Array(text.utf8)
        guard bytes.count >= markerBytes.count else { return nil }
        for start in 0...(bytes.count - markerBytes.count) where bytes[start..<start + markerBytes.count].elementsEqual(markerBytes) {
            let index = text.utf8.index(text.utf8.startIndex, offsetBy: start + markerBytes.count)
            return text[index...]
        }
        return nil
    }
}
