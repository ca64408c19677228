import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// The operator's reports: `sfpg history`, `status` and `check` as a scheduler or an on-call engineer reads them.
@Suite("CLI: reports", .serialized)
struct CLIReportTests {
    @Test("history --json emits the stored values as JSON values, not as strings holding JSON")
    func historyJSONValues() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let job = try world.writeJob(AuditTests.yaml, name: "contacts")
        try world.sync(job, .full)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        world.emulator.org.update("Contact", id: ids[1], fields: ["Email": "new@example.com"])
        world.emulator.org.softDelete("Contact", id: ids[2])
        try world.sync(job, nil)

        func history(_ key: String) throws -> [[String: Any]] {
            let result = try world.sfpg(["history", "contacts", key, "--json"])
            #expect(result.status == 0, "\(result.stderr)")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
            return try #require(entries.last?["changes"] as? [[String: Any]])
        }
        let edited = try history(ids[1])
        let email = try #require(edited.first { $0["column"] as? String == "email" })
        #expect(email["new"] as? String == "new@example.com", "\(email)")
        let deleted = try history(ids[2])
        let flag = try #require(deleted.first { $0["column"] as? String == "is_deleted" })
        #expect(flag["new"] is Bool || (flag["new"] as? NSNumber) != nil, "\(flag)")
        #expect(flag["new"] as? String == nil, "\(flag)")
        #expect(flag["old"] as? String == nil, "\(flag)")

        // Numbers, arrays and objects stay what they are too.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let column = RecordChange.Column(column: "score", old: "12.50", new: #"[1, {"a": null}]"#)
        let encoded = String(decoding: try encoder.encode(column), as: UTF8.self)
        #expect(encoded == #"{"column":"score","new":[1,{"a":null}],"old":12.5}"#, "\(encoded)")
        #expect(try JSONDecoder().decode(RecordChange.Column.self, from: Data(encoded.utf8)).new == #"[1,{"a":null}]"#)
    }

    @Test("status and history on a database sfpg never migrated say to run sfpg migrate, exit 2")
    func unmigratedDatabase() throws {
        let conninfo = try TestPostgres.makeDatabase()
        for command in [["status", "--jobs-directory", E2EFixture.jobsDirectory], ["history", "contacts", "003000000000001AAA"]] {
            let result = try TestSyncProcess.run(command + ["--database-url", conninfo], environment: [:])
            #expect(result.status == 2, "\(command[0]): \(result.stderr)")
            #expect(result.stderr.contains("sfpg migrate"), "\(command[0]): \(result.stderr)")
        }
    }

    @Test("status without job files lists the jobs the database knows")
    func statusWithoutJobFiles() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        try world.sync(try world.job("contacts"), .full)
        let result = try world.sfpg(["status"], environment: ["SFPG_JOBS_DIR": "/nonexistent-\(UUID().uuidString)"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("contacts (Contact → "), "\(result.stdout)")
    }

    @Test("status shows RFC 3339 timestamps, the run's duration and the table name as written")
    func statusTimestamps() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        try world.sync(try world.job("contacts"), .full)
        let json = try world.sfpg(["status", "--json", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(json.status == 0, "\(json.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let contacts = try #require(array.first { $0["job"] as? String == "contacts" })
        let rfc3339 = ISO8601DateFormatter()
        rfc3339.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for key in ["lastStartedAt", "lastCompletedAt", "lastSuccessAt"] {
            let text = try #require(contacts[key] as? String, "\(key) missing")
            #expect(rfc3339.date(from: text) != nil, "\(key): \(text)")
        }
        let seconds = try #require(contacts["lastRunSeconds"] as? Double)
        #expect(seconds >= 0 && seconds < 600)
        #expect(contacts["table"] as? String == "public.salesforce_contacts")

        let text = try world.sfpg(["status", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(text.stdout.contains("contacts (Contact → public.salesforce_contacts)"), "\(text.stdout)")
        #expect(!text.stdout.contains("\"public\""), "\(text.stdout)")
        #expect(text.stdout.contains("Z → ") && text.stdout.contains(" s)"), "\(text.stdout)")
    }

    @Test("check fails (exit 2) when a job's table or a mapped column is missing")
    func checkSeesTheSchema() async throws {
        let world = try await E2EFixture { $0.contactCount = 30 }
        try world.connection.execute("ALTER TABLE public.salesforce_contacts DROP COLUMN department")
        try world.connection.execute("DROP TABLE public.salesforce_opportunities")
        let result = try world.sfpg(["check", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        let failures = result.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") }
        #expect(failures.contains { $0.contains("contacts") && $0.contains("department") }, "\(result.stdout)")
        #expect(failures.contains { $0.contains("opportunities") && $0.contains("salesforce_opportunities") }, "\(result.stdout)")
        #expect(!failures.contains { $0.contains("accounts") }, "\(result.stdout)")
    }

    @Test("describe --apply on an existing table of another shape says what differs, changes nothing, exit 2")
    func describeApplyOnAnotherShape() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        try world.connection.execute("CREATE TABLE crm_contacts (salesforce_id varchar(18) PRIMARY KEY, first_name integer)")
        let result = try world.sfpg(["describe", "Contact", "--fields", "FirstName,LastName", "--table", "crm_contacts", "--apply"])
        #expect(result.status == 2, "\(result.stdout)\(result.stderr)")
        #expect(!result.stderr.contains("created"), "\(result.stderr)")
        #expect(result.stderr.contains("last_name") && result.stderr.contains("first_name"), "\(result.stderr)")
        #expect(result.stderr.contains("--alter"), "\(result.stderr)")
        #expect(try world.count("SELECT count(*) FROM pg_attribute WHERE attrelid = 'crm_contacts'::regclass AND attnum > 0") == 2)

        let same = try world.sfpg(["describe", "Contact", "--fields", "FirstName,LastName", "--table", "crm_new", "--apply"])
        #expect(same.status == 0, "\(same.stderr)")
        let again = try world.sfpg(["describe", "Contact", "--fields", "FirstName,LastName", "--table", "crm_new", "--apply"])
        #expect(again.status == 0, "an existing table of the same shape is fine: \(again.stderr)")
    }

    @Test("on_missing_field: skip warns naming the field; check counts only existing fields; --dry-run leaves it out")
    func skippedFieldIsReported() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        let yaml = try CLIExitCodeTests.contactsYAML
            .replacingOccurrences(of: "  Department: department", with: "  Division__c: department") + "on_missing_field: skip\n"
        let jobs = try CLIExitCodeTests.tempJobs(["contacts.yaml": yaml])
        let fieldCount = try JobDefinition.load(file: jobs + "/contacts.yaml").fields.count

        let run = try world.sfpg(["run", "contacts", "--jobs-directory", jobs])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("Division__c"), "\(run.stderr)")

        let check = try world.sfpg(["check", "--jobs-directory", jobs])
        #expect(check.stdout.contains("\(fieldCount - 1) mapped fields exist"), "\(check.stdout)")
        #expect(check.stdout.contains("Division__c"), "\(check.stdout)")

        let dryRun = try world.sfpg(["run", "contacts", "--dry-run", "--jobs-directory", jobs])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("SELECT") && !dryRun.stdout.contains("Division__c"), "\(dryRun.stdout)")
    }
}
