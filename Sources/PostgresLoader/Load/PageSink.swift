/// Where Bulk API result pages are copied: a run's staging table, or a column refresh's.
///
/// Each page is one `COPY` under its own savepoint, so a page that breaks half-way (a dropped download, a rejected
/// value) is rolled back alone and the transaction stays usable for a re-fetch or a clean failure.
public protocol PageSink: AnyObject {
    /// Opens one page's COPY; feed it with ``PageWriter/write(_:)``.
    func beginPage(_ pageNumber: Int) throws -> PageWriter
    /// Ends the page's COPY and keeps its rows. - Returns: the data rows copied.
    @discardableResult
    func finishPage(_ page: PageWriter) throws -> Int
    /// Ends a failing page (CopyFail), rolls it back and returns the error to throw. A write that failed must come
    /// here before anything else runs on the connection, which is still in COPY mode.
    func abort(_ page: PageWriter, because error: any Error) -> any Error
}

extension PageSink {
    /// Drops a page whose download broke half-way, so it can be fetched again from its start.
    public func discardPage(_ page: PageWriter) {
        _ = abort(page, because: PageDiscarded())
    }
}

struct PageDiscarded: Error, CustomStringConvertible {
    var description: String { "page discarded for re-fetch" }
}

/// Copies pages into one table already there (a column refresh's staging, a key sweep's keys), each page under
/// its own savepoint, and counts the rows kept for the completeness proof.
public final class TableSink: PageSink {
    let connection: PostgresConnection
    let copySQL: String
    let fields: [String]
    /// Rows COPY kept, over every finished page.
    public private(set) var stagedRows = 0

    init(connection: PostgresConnection, copySQL: String, fields: [String]) {
        self.connection = connection
        self.copySQL = copySQL
        self.fields = fields
    }

    public func beginPage(_ pageNumber: Int) throws -> PageWriter {
        try connection.beginStagingPage(pageNumber, copySQL: copySQL, expectedFields: fields)
    }

    @discardableResult
    public func finishPage(_ page: PageWriter) throws -> Int {
        let rows = try connection.finishStagingPage(page)
        stagedRows += rows
        return rows
    }

    public func abort(_ page: PageWriter, because error: any Error) -> any Error {
        connection.abortStagingPage(page, because: error)
    }
}

@available(*, unavailable)
extension TableSink: Sendable {}

/// The savepoint-per-page COPY mechanics every sink shares.
extension PostgresConnection {
    func beginStagingPage(_ pageNumber: Int, copySQL: String, expectedFields: [String]) throws -> PageWriter {
        try execute("SAVEPOINT sfpg_page")
        do {
            let stream = try beginCopyIn(copySQL)
            return PageWriter(stream: stream, expectedFields: expectedFields, pageNumber: pageNumber)
        } catch {
            if isConnected { _ = try? execute("ROLLBACK TO SAVEPOINT sfpg_page") }
            throw error
        }
    }

    /// - Throws: the page's own error, after rolling it back (the caller may describe it further).
    func finishStagingPage(_ page: PageWriter) throws -> Int {
        let rows: Int
        do {
            try page.finish()
            page.ended = true
            rows = try finishCopyIn(page.stream)
        } catch {
            throw abortStagingPage(page, because: error)
        }
        try execute("RELEASE SAVEPOINT sfpg_page")
        return rows
    }

    func abortStagingPage(_ page: PageWriter, because error: any Error) -> any Error {
        var error = error
        if !page.ended {
            page.ended = true
            error = abortCopyIn(page.stream, because: error)
        }
        if isConnected { _ = try? execute("ROLLBACK TO SAVEPOINT sfpg_page") }
        return error
    }
}
