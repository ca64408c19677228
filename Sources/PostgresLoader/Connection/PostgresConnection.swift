import CLibPQ
import SettingsSyntax

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One blocking libpq connection. Owns its `PGconn` and closes it in `deinit`.
///
/// Not `Sendable`: one thread uses it at a time. To interrupt a running statement from elsewhere (a signal
/// handler, another thread), use ``makeCanceller()``.
public final class PostgresConnection {
    let handle: OpaquePointer
    /// Rows reported by the last finished COPY (PQcmdTuples).
    var lastCopiedRows = 0
    /// The password's spellings, removed from every libpq message this connection turns into an error.
    let secrets: ConnectionSecrets

    /// How long a statement of a run waits for a lock (`SET LOCAL lock_timeout` in the run's transaction), in
    /// PostgreSQL's spelling (`5min`, `30s`, `0` for no limit): ``PostgresSettings/lockTimeout``.
    public var lockTimeout: String

    /// `work_mem` of a run's merge transaction (`SET LOCAL`): the dedup, the join against the target and the sweep's
    /// anti-join hash or sort in memory instead of spilling to disk. ``PostgresSettings/mergeWorkMem``.
    public var mergeWorkMem: String

    /// Connects with a libpq connection string (`host=… dbname=…`) or URI (`postgresql://…`).
    ///
    /// An empty string means libpq's defaults: `PGHOST`, `PGDATABASE`, … , `.pgpass`, `PGSSLMODE` all apply.
    /// - Parameters:
    ///   - conninfo: the connection string; never echoed in errors (it may hold a password).
    ///   - applicationName: `application_name` unless the connection string sets one.
    ///   - settings: sfpg's timeouts and `work_mem`; the connection string wins for the libpq ones.
    /// - Throws: `PostgresError` `.configuration` for a connection string libpq cannot parse (saying what kind of
    ///   mistake, never quoting it) or a connection that fails for good (``connectFailure(_:)``), `.authentication`
    ///   for a refused password, else `.connection`; each with libpq's message, the password removed from it.
    public init(
        _ conninfo: String = "", applicationName: String = "sfpg", settings: PostgresSettings = PostgresSettings()
    ) throws {
        let secrets = try ConnectionSecrets.checking(conninfo, environmentPassword: settings.environmentPassword)
        self.secrets = secrets
        lockTimeout = DurationSyntax.format(settings.lockTimeout)
        mergeWorkMem = settings.mergeWorkMem
        // Later entries win, and an expanded `dbname` overrides those before it: so defaults first, then the
        // user's string, and anything the user wrote takes precedence.
        let parameters = settings.connectionParameters + [("application_name", applicationName), ("dbname", conninfo)]
        let connection = Self.withCStringArrays(parameters) { keys, values in
            PQconnectdbParams(keys, values, 1)
        }
        guard let connection else {
            throw PostgresError(.connection, "could not connect to PostgreSQL: out of memory")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = secrets.scrub(Self.trimmed(PQerrorMessage(connection)))
            PQfinish(connection)
            throw Self.connectFailure(message)
        }
        // libpq prints NOTICEs ("schema already exists, skipping") to stderr by default; sfpg has nothing to
        // tell the user about them.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        handle = connection
        // Every timestamp sfpg reads or writes is UTC: a `timestamp` (without time zone) modstamp column cast to
        // timestamptz in a session west of UTC moved the watermark hours into the future. A session SET wins over
        // `options=-c TimeZone=…` in the connection string, PGTZ and the role's or database's default.
        // idle_in_transaction_session_timeout: managed PostgreSQL often sets it (minutes), and a run's transaction is
        // idle while sfpg waits on Salesforce between result pages; the server would kill the session mid-run.
        try execute(
            "SELECT set_config('TimeZone', 'UTC', false), set_config('idle_in_transaction_session_timeout', '0', false)")
    }

    /// The connection's effective libpq options (`PQconninfo`): what the defaults, the connection string and the
    /// environment came to. Holds the password, if any: for tests and diagnostics, never for output.
    func effectiveOptions() -> [String: String] {
        guard let options = PQconninfo(handle) else { return [:] }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        return values
    }

    /// Bounds the current transaction's lock waits by ``lockTimeout`` (`SET LOCAL`, so it ends with the transaction).
    func limitLockWaits() throws {
        try execute("SELECT set_config('lock_timeout', $1, true)", [lockTimeout])
    }

    /// The error for a statement that gave up waiting for `table` (SQLSTATE 55P03), naming what to do; other errors
    /// are returned as they are.
    func explainingLockTimeout(_ error: any Error, table: TableName, jobName: String) -> any Error {
        guard let error = error as? PostgresError, error.sqlState == "55P03" else { return error }
        return PostgresError(
            .query,
            "job '\(jobName)': the target table \(table) is locked by another session (waited \(lockTimeout), the lock "
                + "timeout); nothing was committed",
            sqlState: error.sqlState,
            hint: "Find the session with SELECT pid, state, query FROM pg_stat_activity WHERE pid = ANY "
                + "(SELECT pid FROM pg_locks WHERE relation = to_regclass('\(table.quoted.replacingAll("'", with: "''"))')); "
                + "let it finish, or set \(PostgresSettings.Name.lockTimeout) (e.g. 30min, 0 for no limit).")
    }

    deinit {
        PQfinish(handle)
    }

    /// The server version as an integer, e.g. `150018` for 15.18.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Whether the connection is still usable (not broken by the server or the network).
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Whether a transaction block is open (`BEGIN` was sent and not yet ended).
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// Runs `body` in one transaction: COMMIT when it returns, ROLLBACK when it throws (the error is rethrown).
    /// For work that fits in one call; a run's transaction spans its pages and lives in ``LoadRun``.
    public func withTransaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            if isConnected, isInTransaction { _ = try? execute("ROLLBACK") }
            throw error
        }
    }

    /// The backend process id, for `pg_cancel_backend`/`pg_terminate_backend`.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// Runs one statement with text parameters (`$1`, `$2`, … ; `nil` is NULL) via `PQexecParams`.
    /// - Throws: `PostgresError` `.query` with the server's SQLSTATE, detail, hint and context.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [String?] = []) throws -> PostgresResult {
        let result: OpaquePointer? = Self.withOptionalCStrings(parameters) { values in
            PQexecParams(handle, sql, Int32(parameters.count), nil, values, nil, nil, 0)
        }
        return try consume(result, expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
    }

    /// Runs a script of several statements (simple query protocol, no parameters), e.g. a migration file.
    @discardableResult
    public func executeScript(_ sql: String) throws -> PostgresResult {
        try consume(PQexec(handle, sql), expecting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY])
    }

    /// Returns a handle that can cancel this connection's running statement from any thread.
    public func makeCanceller() -> PostgresCanceller {
        PostgresCanceller(cancel: PQgetCancel(handle))
    }

    /// Checks and frees a result, turning a failed status into a `PostgresError`.
    func consume(_ result: OpaquePointer?, expecting statuses: [ExecStatusType], code: PostgresError.Code = .query)
        throws -> PostgresResult
    {
        guard let result else {
            throw connectionError()
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard statuses.contains(status) else {
            throw Self.error(from: result, code: code, connection: self)
        }
        return PostgresResult(copying: result)
    }

    /// The connection-level error (no `PGresult`), e.g. after the server went away.
    func connectionError() -> PostgresError {
        let message = secrets.scrub(Self.trimmed(PQerrorMessage(handle)))
        let code: PostgresError.Code = isConnected ? .query : .connection
        return PostgresError(code, message.isEmpty ? "PostgreSQL connection lost" : message)
    }

    static func error(from result: OpaquePointer, code: PostgresError.Code, connection: PostgresConnection)
        -> PostgresError
    {
        func field(_ id: Int32) -> String? {
            guard let value = PQresultErrorField(result, id) else { return nil }
            return String(cString: value)
        }
        let primary = field(DiagnosticField.message) ?? trimmed(PQresultErrorMessage(result))
        let sqlState = field(DiagnosticField.sqlState)
        var resolvedCode = code
        // Class 08 (connection exception) and 57P01..57P03 (admin shutdown) mean the session is gone.
        if !connection.isConnected || sqlState?.hasPrefix("08") == true || sqlState?.hasPrefix("57P") == true {
            resolvedCode = .connection
        }
        // Row contents never leave here: see `RowContentRedaction`.
        return PostgresError(
            resolvedCode,
            primary.isEmpty ? connectionMessage(connection) : RowContentRedaction.message(primary, sqlState: sqlState),
            sqlState: sqlState, detail: RowContentRedaction.detail(field(DiagnosticField.detail), sqlState: sqlState),
            hint: field(DiagnosticField.hint), context: RowContentRedaction.context(field(DiagnosticField.context)),
            column: field(DiagnosticField.column))
    }

    static func connectionMessage(_ connection: PostgresConnection) -> String {
        let message = connection.secrets.scrub(trimmed(PQerrorMessage(connection.handle)))
        return message.isEmpty ? "PostgreSQL connection lost" : message
    }

    static func trimmed(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        return String(cString: pointer).trimmingSpaces()
    }

    /// Parses a connection string or URI and returns it as `key='value'` pairs with `overrides` applied.
    /// Lets callers (tests, tools) point the same settings at another database. The result holds the password,
    /// if any: treat it as a secret.
    /// - Throws: `PostgresError` `.configuration` for a string libpq cannot parse, without quoting any of it.
    public static func conninfo(_ base: String, overriding overrides: [String: String]) throws -> String {
        let options = try ConnectionSecrets.parse(base)
        defer { PQconninfoFree(options) }
        var pairs: [(String, String)] = []
        var option = options
        while let keyword = option.pointee.keyword {
            let key = String(cString: keyword)
            if let value = option.pointee.val, overrides[key] == nil {
                pairs.append((key, String(cString: value)))
            }
            option += 1
        }
        pairs += overrides.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return pairs.map { key, value in
            let escaped = value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "\\'")
            return "\(key)='\(escaped)'"
        }.joined(separator: " ")
    }

    static func withCStringArrays<R>(
        _ pairs: [(String, String)],
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        let keys = pairs.map { strdup($0.0) }
        let values = pairs.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keyPointers = keys.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        return keyPointers.withUnsafeBufferPointer { keyBuffer in
            valuePointers.withUnsafeBufferPointer { valueBuffer in
                body(keyBuffer.baseAddress!, valueBuffer.baseAddress!)
            }
        }
    }

    static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R)
        -> R
    {
        let copies = strings.map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}

@available(*, unavailable)
extension PostgresConnection: Sendable {}

/// Cancels the running statement of one connection, from any thread or task.
public final class PostgresCanceller: Sendable {
    // PGcancel is immutable after PQgetCancel and PQcancel is documented as safe to call from any thread (even a
    // signal handler); the pointer itself is only freed in deinit, when no caller can hold the object.
    nonisolated(unsafe) private let cancelHandle: OpaquePointer?

    init(cancel: OpaquePointer?) {
        cancelHandle = cancel
    }

    deinit {
        if let cancelHandle { PQfreeCancel(cancelHandle) }
    }

    /// Asks the server to cancel whatever the connection is running. Returns `false` if the request could not
    /// be sent; a `true` does not guarantee the statement was running.
    @discardableResult
    public func cancel() -> Bool {
        guard let cancelHandle else { return false }
        var buffer = [CChar](repeating: 0, count: 256)
        return PQcancel(cancelHandle, &buffer, Int32(buffer.count)) == 1
    }
}

/// `PG_DIAG_*` are character-literal macros, which Swift does not import.
enum DiagnosticField {
    static let sqlState = Int32(UInt8(ascii: "C"))
    static let message = Int32(UInt8(ascii: "M"))
    static let detail = Int32(UInt8(ascii: "D"))
    static let hint = Int32(UInt8(ascii: "H"))
    static let context = Int32(UInt8(ascii: "W"))
    static let column = Int32(UInt8(ascii: "c"))
}
