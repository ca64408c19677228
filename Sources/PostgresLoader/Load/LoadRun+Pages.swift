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

    /// Opens one page's COPY under its own savepoint (see ``PageSink``); the push-style twin of
    /// ``copyPage(_:_:)``, for a download that hands over bytes from a callback.
    public func beginPage(_ pageNumber: Int) throws -> PageWriter {
        guard phase == .loading, openPage == nil else {
            throw PostgresError(.configuration, "job '\(jobName)': a page needs begin() first, and the previous page ended")
        }
        if staged != nil { try beginResumablePage() }
        let page = try connection.beginStagingPage(
            pageNumber, copySQL: pageTarget?.copySQL ?? (path == .direct ? plan.directCopySQL : plan.copySQL),
            expectedFields: pageTarget?.fields ?? mapping.sourceFields)
        openPage = page
        return page
    }

    /// Ends the page's COPY and keeps its rows. On failure the page is rolled back to its savepoint (the run's
    /// transaction stays usable) and the error names the page, line and field of a rejected value.
    @discardableResult
    public func finishPage(_ page: PageWriter) throws -> Int {
        let rows: Int
        defer { if openPage === page { openPage = nil } }
        do {
            rows = try connection.finishStagingPage(page)
            if staged != nil { try commitResumablePage(page, rows: rows) }
        } catch {
            throw describe(error, page: page)
        }
        stagedRows += rows
        return rows
    }

    public func abort(_ page: PageWriter, because error: any Error) -> any Error {
        if openPage === page { openPage = nil }
        let error = connection.abortStagingPage(page, because: error)
        // A resumable page has its own transaction: nothing of it stays.
        if staged != nil, connection.isConnected, connection.isInTransaction { _ = try? connection.execute("ROLLBACK") }
        return describe(error, page: page)
    }

    private func describe(_ error: any Error, page: PageWriter) -> any Error {
        // Straight into the target, a key that arrives twice hits the unique index: load through staging instead.
        if path == .direct, let error = error as? PostgresError, error.sqlState == "23505" { return DirectLoadConflict() }
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
