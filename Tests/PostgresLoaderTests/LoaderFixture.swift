import PostgresLoader
import TestSupport

/// A migrated, private database plus helpers to run loads of Contact CSV pages into it.
final class LoaderFixture {
    let conninfo: String
    let connection: PostgresConnection
    var mapping = LoadMapping.contacts
    let jobName = "contacts"

    init() throws {
        (conninfo, connection) = try TestPostgres.makeMigratedDatabase()
    }

    /// Another view of an existing fixture's database (for a second thread).
    init(existing conninfo: String) throws {
        self.conninfo = conninfo
        connection = try PostgresConnection(conninfo)
    }

    static let header = "\"Id\",\"SystemModstamp\",\"IsDeleted\",\"FirstName\",\"LastName\",\"Email\",\"Phone\","
        + "\"AccountId\",\"Title\",\"Department\",\"CreatedDate\",\"LastModifiedDate\"\n"

    static func id(_ number: Int) -> String {
        let digits = String(number)
        return "003" + String(repeating: "0", count: 15 - digits.count) + digits
    }

    static func field(_ value: String?) -> String {
        guard let value else { return "" }
        var quoted = "\""
        for character in value { quoted += character == "\"" ? "\"\"" : String(character) }
        return quoted + "\""
    }

    /// One CSV row as the Bulk API writes it: every value quoted, NULL as an empty field.
    static func row(
        _ number: Int, modstamp: String, deleted: Bool = false, first: String? = "Ada", last: String? = "Lovelace",
        email: String? = "ada@example.com", phone: String? = nil, account: String? = "001000000000000AAA",
        title: String? = nil, department: String? = nil, created: String? = "2024-01-01T00:00:00.000Z"
    ) -> String {
        [
            field(id(number)), field(modstamp), field(deleted ? "true" : "false"), field(first), field(last),
            field(email), field(phone), field(account), field(title), field(department), field(created),
            field(modstamp),
        ].joined(separator: ",") + "\n"
    }

    static func page(_ rows: String...) -> String { header + rows.joined() }

    /// Runs `body` with a fresh run of the job, inside the job's (and table's) lock, as a sync run would.
    func withRun<T>(
        _ syncType: SyncType = .incremental, on other: PostgresConnection? = nil, lock: LockPolicy = .failFast,
        job: String? = nil, _ body: (LoadRun) throws -> T
    ) throws -> T {
        let store = SyncStore(other ?? connection)
        let name = job ?? jobName
        return try store.withJobLock(name, table: mapping.table, policy: lock) { state in
            try body(LoadRun(
                store: store, state: state, jobName: name, objectName: "Contact", mapping: mapping, syncType: syncType))
        }
    }

    /// Runs one whole load: begin, one COPY per page, commit.
    @discardableResult
    func load(
        _ pages: [String], _ syncType: SyncType = .incremental, fullSweep: Bool = false, allowMassDelete: Bool = false
    ) throws -> RunSummary {
        let store = SyncStore(connection)
        return try store.withJobLock(jobName, table: mapping.table, policy: .failFast) { state in
            var current: LoadRun?
            do {
                return try LoadRun.loading({
                    try LoadRun(
                        store: store, state: state, jobName: jobName, objectName: "Contact", mapping: mapping,
                        syncType: syncType)
                }, current: { current = $0 }) { run in
                    try run.begin()
                    for (index, page) in pages.enumerated() {
                        try run.copyPage(index + 1) { writer in try writer.write(page) }
                    }
                    return try run.commitStaged(
                        fullSweep: fullSweep, allowMassDelete: allowMassDelete, salesforceJobId: "750000000000000AAA",
                        apiCalls: 3)
                }
            } catch {
                current?.fail(error, salesforceJobId: nil, apiCalls: 3)
                throw error
            }
        }
    }

    func value(_ sql: String, _ parameters: [String?] = []) throws -> String? {
        try connection.execute(sql, parameters).rows.first?.first ?? nil
    }

    func count(_ sql: String) throws -> Int {
        Int(try value(sql) ?? "") ?? -1
    }

    func watermark() throws -> String? {
        try value(
            "SELECT to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM sfpg.sync_state "
                + "WHERE job_name = $1", [jobName])
    }

    func contact(_ number: Int, _ column: String) throws -> String? {
        try value(
            "SELECT \(SQLIdentifier.quote(column))::text FROM public.salesforce_contacts WHERE salesforce_id = $1",
            [Self.id(number)])
    }
}

extension PageWriter {
    func write(_ text: String) throws {
        var bytes = Array(text.utf8)
        try bytes.withUnsafeMutableBytes { try write(UnsafeRawBufferPointer($0)) }
    }
}

extension LoadRun {
    /// Commits with the staged rows as the whole evidence: the loader's own tests feed pages directly, so there is
    /// no Salesforce count to reconcile against.
    func commitStaged(
        fullSweep: Bool = false, allowMassDelete: Bool = false, salesforceJobId: String? = nil, apiCalls: Int = 0
    ) throws -> RunSummary {
        try commit(
            CommitRequest(
                fullSweep: fullSweep, reconciliation: Reconciliation(expected: stagedRows, downloaded: stagedRows),
                allowMassDelete: allowMassDelete, salesforceJobId: salesforceJobId, apiCalls: apiCalls))
    }
}
