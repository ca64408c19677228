import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

@Suite("Audit trail: sfpg.changes")
struct AuditTests {
    static let yaml = """
        object: Contact
        table: public.salesforce_contacts
        fields:
          Id: salesforce_id
          FirstName: first_name
          LastName: last_name
          Email: email
          Title: title
          SystemModstamp: system_modstamp
          IsDeleted: is_deleted
        audit: true
        audit_retention: 30d
        """

    /// run_id, key → (operation, changes as {column: [old, new]} in JSON text).
    static func changes(_ world: E2EFixture, run: Int64) throws -> [String: (String, [String: [String?]])] {
        let result = try world.connection.execute(
            """
            SELECT c.record_key, c.operation, e.key, (e.value -> 'old') #>> '{}', (e.value -> 'new') #>> '{}'
            FROM sfpg.changes c CROSS JOIN LATERAL jsonb_each(c.changes) e WHERE c.run_id = $1
            """, [String(run)])
        var rows: [String: (String, [String: [String?]])] = [:]
        for row in result.rows {
            let key = row[0] ?? ""
            var entry = rows[key] ?? (row[1] ?? "", [:])
            entry.1[row[2] ?? ""] = [row[3], row[4]]
            rows[key] = entry
        }
        return rows
    }

    @Test("the audit table holds exactly the changes made between two runs, with old and new values, nothing for untouched rows")
    func auditBetweenRuns() async throws {
        let world = try await E2EFixture { $0.contactCount = 200 }
        let job = try world.writeJob(Self.yaml, name: "contacts")
        #expect(job.audit && job.auditRetentionSeconds == 30 * 86_400)
        let first = try #require(try world.sync(job, .full).summary)
        #expect(try world.count("SELECT count(*) FROM sfpg.changes WHERE operation = 'insert' AND run_id = \(first.runId)") == 200)
        #expect(try Self.changes(world, run: first.runId).values.allSatisfy { $0.1["is_deleted"] == [nil, "false"] })

        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        let truth = Dictionary(uniqueKeysWithValues: world.truth(job).map { ($0[0]!, $0) })
        let (edited, cleared, deleted) = (ids[10], ids[20], ids[30])
        world.emulator.org.update("Contact", id: edited, fields: ["Email": "new@example.com"])
        world.emulator.org.update("Contact", id: cleared, fields: ["Title": nil, "FirstName": "Zoë"])
        world.emulator.org.softDelete("Contact", id: deleted)
        let inserted = world.emulator.org.insert("Contact", fields: ["LastName": "Newcomer", "Email": "n@example.com"])
        // Nudged without changing a mapped value: SystemModstamp moves, nothing else does.
        world.emulator.org.update("Contact", id: ids[40], fields: ["Department": "Moved"])

        let second = try #require(try world.sync(job, nil).summary)
        let audit = try Self.changes(world, run: second.runId)
        #expect(Set(audit.keys) == [edited, cleared, deleted, inserted], "\(audit.keys.sorted())")
        #expect(audit[edited]?.0 == "update")
        #expect(audit[edited]?.1 == ["email": [truth[edited]![3], "new@example.com"]])
        #expect(audit[cleared]?.0 == "update")
        let titleOld = try #require(truth[cleared]![4])
        #expect(audit[cleared]?.1["title"] == [titleOld, nil])
        #expect(audit[cleared]?.1["first_name"] == [truth[cleared]![1], "Zoë"])
        #expect(audit[cleared]?.1.count == 2)
        #expect(audit[deleted]?.0 == "delete")
        #expect(audit[deleted]?.1 == ["is_deleted": ["false", "true"]])
        #expect(audit[inserted]?.0 == "insert")
        #expect(audit[inserted]?.1["last_name"] == [nil, "Newcomer"])

        world.emulator.org.undelete("Contact", id: deleted)
        let third = try #require(try world.sync(job, nil).summary)
        #expect(try Self.changes(world, run: third.runId).mapValues(\.0) == [deleted: "undelete"])

        let history = try RecordHistory.load(world.connection, job: "contacts", key: deleted)
        #expect(history.map(\.operation) == ["insert", "delete", "undelete"])
        #expect(history[1].changes == [RecordChange.Column(column: "is_deleted", old: "false", new: "true")])
        let printed = try world.sfpg(["history", "contacts", edited])
        #expect(printed.status == 0)
        #expect(printed.stdout.contains("email: \"\(truth[edited]![3]!)\" → \"new@example.com\""), "\(printed.stdout)")
    }

    @Test("a full sweep records deletes; retention prunes old rows at the end of a run")
    func sweepAndRetention() async throws {
        let world = try await E2EFixture { $0.contactCount = 60 }
        let job = try world.writeJob(Self.yaml, name: "contacts")
        try world.sync(job, .full)
        try world.connection.execute("UPDATE sfpg.changes SET recorded_at = now() - interval '31 days'")
        let gone = world.emulator.org.ids("Contact", includeDeleted: false)[5]
        world.emulator.org.hardDelete("Contact", id: gone)
        let run = try #require(try world.sync(job, .full).summary)
        #expect(try world.count("SELECT count(*) FROM sfpg.changes WHERE run_id <> \(run.runId)") == 0)
        #expect(try Self.changes(world, run: run.runId).mapValues(\.0) == [gone: "delete"])
    }

    @Test("with deletes: hard, a record deleted in Salesforce is audited with its last values")
    func hardDelete() async throws {
        let world = try await E2EFixture { $0.contactCount = 40 }
        let job = try world.writeJob(Self.yaml.replacingOccurrences(of: "audit: true", with: "audit: true\ndeletes: hard"), name: "contacts")
        try world.sync(job, .full)
        let id = world.emulator.org.ids("Contact", includeDeleted: false)[2]
        let last = try #require(world.truth(job).first { $0[0] == id })
        world.emulator.org.softDelete("Contact", id: id)
        let run = try #require(try world.sync(job, nil).summary)
        let audit = try Self.changes(world, run: run.runId)
        #expect(audit.mapValues(\.0) == [id: "delete"])
        #expect(audit[id]?.1["last_name"] == [last[2], nil])
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE salesforce_id = '\(id)'") == 0)
    }
}
