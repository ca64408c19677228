import PostgresLoader

/// What `sfpg demo` reads and refuses in its database.
public enum DemoDatabase {
    /// The demo's table after its runs: totals and the most recently changed rows.
    public struct ContactsSample: Sendable {
        public var rows: String
        public var deleted: String
        public var columns: [String]
        public var sample: [[String?]]
    }

    public static let contactsTable = "public.salesforce_contacts"

    /// Counts of `public.salesforce_contacts` and its 5 most recently changed rows, live ones first.
    public static func contactsSample(_ connection: PostgresConnection) throws -> ContactsSample {
        let sample = try connection.execute(
            """
            SELECT salesforce_id, first_name, last_name, email, is_deleted,
                   to_char(system_modstamp AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS modstamp
              FROM \(contactsTable) ORDER BY is_deleted, system_modstamp DESC LIMIT 5
            """
        )
        let totals = try connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_deleted) FROM \(contactsTable)"
        )
        return ContactsSample(
            rows: totals.rows[0][0] ?? "?", deleted: totals.rows[0][1] ?? "?", columns: sample.columns,
            sample: sample.rows)
    }

    /// Refuses a `--database-url` database that holds anything the demo could damage: sfpg's state (a watermark,
    /// a run log, an audit trail) or rows in the demo's target table, which its full sync would sweep.
    /// - Throws: `PostgresError` `.configuration` (exit 2) saying what is there and what to do instead.
    public static func requireDisposable(_ connection: PostgresConnection) throws {
        let checked = ["sfpg.sync_state", "sfpg.sync_logs", "sfpg.changes", contactsTable]
        var occupied: [String] = []
        do {
            for table in checked {
                let exists = try connection.execute("SELECT to_regclass($1) IS NOT NULL", [table]).rows.first?.first
                guard exists == "t" else { continue }
                let rows = try connection.execute("SELECT EXISTS (SELECT 1 FROM \(table))").rows.first?.first
                if rows != "f" { occupied.append(table) }
            }
        } catch let error as PostgresError where error.code != .connection {
            throw PostgresError(
                .configuration, "refusing to run the demo: could not check that the --database-url database is unused: \(error.message)",
                hint: "Run sfpg demo without --database-url; it starts its own throwaway PostgreSQL.")
        }
        guard occupied.isEmpty else {
            throw PostgresError(
                .configuration,
                "refusing to run the demo in the --database-url database: \(occupied.joined(separator: ", ")) "
                    + "\(occupied.count == 1 ? "has" : "have") rows. The demo inserts generated Contacts into "
                    + "\(contactsTable), marks every other row there deleted and moves the contacts job's "
                    + "watermark, so it only runs in a database with no sfpg state and no Contacts.",
                hint: "Run sfpg demo without --database-url (it starts its own throwaway PostgreSQL), or pass a new, empty database.")
        }
    }
}
