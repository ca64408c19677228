import Foundation
import PostgresLoader
@testable import SalesforceClient
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

@Suite("sfpg describe: type map, DDL, generated jobs")
struct DescribeTests {
    @Test("every describe type of the emulator's Contact maps to the documented PostgreSQL type")
    func typeMap() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let description = try world.describeClient().describe("Contact")
        func mapped(_ name: String) throws -> TypeMap.Column { TypeMap.column(for: try #require(description.field(name))) }
        let expected: [String: TypeMap.Column] = [
            "Id": .type("varchar(18)"), "AccountId": .type("varchar(18)"), "LastName": .type("text"),
            "Email": .type("text"), "Phone": .type("text"), "Salutation": .type("text"), "Description": .type("text"),
            "Website__c": .type("text"), "Languages__c": .type("text[]"), "Is_VIP__c": .type("boolean"),
            "Visit_Count__c": .type("numeric"), "External_Number__c": .type("numeric"),
            "Score__c": .type("numeric"), "Lifetime_Value__c": .type("numeric"),
            "Discount__c": .type("numeric"), "Birthdate": .type("date"), "CreatedDate": .type("timestamptz"),
            "Preferred_Time__c": .type("time"), "Display_Label__c": .type("text"),
            "MailingLatitude": .type("numeric"),
        ]
        for (field, type) in expected { #expect(try mapped(field) == type, "\(field)") }
        guard case .excluded(let reason) = try mapped("MailingAddress") else {
            Issue.record("MailingAddress should be left out")
            return
        }
        #expect(reason.contains("compound"))
        #expect(TypeMap.column(for: FieldDescription(name: "Body", type: "base64")) != .type("text"))

        let names = TypeMap.columnNames(for: description.fields)
        #expect(names["Id"] == "salesforce_id")
        #expect(names["Lifetime_Value__c"] == "lifetime_value")
        #expect(names["SystemModstamp"] == "system_modstamp")
        #expect(Set(names.values).count == names.count, "column names collide")
    }

    @Test("column names are collision-free and deterministic")
    func columnNameCollisions() {
        let fields = [
            FieldDescription(name: "Score", type: "double"), FieldDescription(name: "Score__c", type: "double", custom: true),
            FieldDescription(name: "SCORE_c", type: "string"), FieldDescription(name: "Synced_At__c", type: "datetime", custom: true),
        ]
        let names = TypeMap.columnNames(for: fields)
        #expect(names["Score"] == "score")
        #expect(names["Score__c"] == "score_c")
        #expect(names["SCORE_c"] == "score_c_2")
        #expect(names["Synced_At__c"] == "synced_at_c")
        #expect(TypeMap.columnNames(for: fields) == names)
    }

    @Test("the generated DDL applies and a sync into it equals the org: numerics, dates, datetimes in another time zone, booleans, multipicklists, nulls")
    func generatedTableSyncsToTruth() async throws {
        let world = try await E2EFixture { $0.contactCount = 250 }
        let description = try world.describeClient().describe("Contact")
        let design = try TableDesign(description: description, fields: nil, table: TableName(schema: "public", name: "contact_all"))
        #expect(design.createTableSQL.contains("\"languages\" text[]"))
        #expect(design.jobYAML.contains("# MailingAddress left out"))
        // The run's session uses a zone with a half-hour offset; datetimes must still load as the same instants.
        let database = try world.value("SELECT current_database()") ?? ""
        try world.connection.execute("ALTER DATABASE \(SQLIdentifier.quote(database)) SET timezone = 'America/St_Johns'")
        try world.connection.executeScript(design.createTableSQL)
        let job = try world.writeJob(design.jobYAML, name: "contact_all")
        #expect(job.refreshCalculatedSeconds == 86_400)
        // Edge values: one-item and absent multipicklists, negative and max-scale numerics, null date and time.
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        world.emulator.org.update("Contact", id: ids[0], fields: [
            "Languages__c": "日本語", "Score__c": "-0.01", "Discount__c": "99.99", "Is_VIP__c": "true",
            "Birthdate": nil, "Preferred_Time__c": "23:59:59.000Z", "Last_Survey__c": "2024-02-29T23:59:59.999Z",
        ])
        world.emulator.org.update("Contact", id: ids[1], fields: ["Languages__c": nil, "External_Number__c": "-9000000000000"])
        try world.sync(job, .full)

        let expected = world.truth(job)
        let differences = TestSyncTables.differences(expected: expected, actual: try world.typedTable(job), fields: job.fields.map(\.source))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(try world.value("SELECT languages::text FROM contact_all WHERE salesforce_id = $1", [ids[0]]) == "{日本語}")
        #expect(try world.value("SELECT count(*) FROM contact_all WHERE cardinality(languages) > 1") != "0")
        try world.connection.execute("SET timezone = 'America/St_Johns'")
        #expect(try world.value("SELECT last_survey::text FROM contact_all WHERE salesforce_id = $1", [ids[0]])
            == "2024-02-29 20:29:59.999-03:30")
    }

    @Test("a job for a new object is generated, applied and synced with two commands")
    func twoCommands() async throws {
        let world = try await E2EFixture { $0.contactCount = 120 }
        let directory = try ScratchDirectory.make("sfpg-describe")
        let generated = try world.sfpg([
            "describe", "Contact", "--fields", "FirstName,LastName,Languages__c,Score__c", "--table", "crm_contacts",
            "--write-job", directory + "/crm.yaml", "--apply",
        ])
        #expect(generated.status == 0, "\(generated.stderr)")
        let run = try world.sfpg(["run", "crm", "--jobs-directory", directory])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let job = try JobDefinition.load(file: directory + "/crm.yaml")
        #expect(job.fields.map(\.source) == ["Id", "IsDeleted", "LastName", "FirstName", "SystemModstamp", "Languages__c", "Score__c"])
        let differences = TestSyncTables.differences(expected: world.truth(job), actual: try world.typedTable(job), fields: job.fields.map(\.source))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")

        let alter = try world.sfpg(["describe", "Contact", "--fields", "Email", "--table", "crm_contacts", "--alter"])
        #expect(alter.status == 0, "\(alter.stderr)")
        #expect(alter.stdout.contains("ALTER TABLE \"crm_contacts\" ADD COLUMN IF NOT EXISTS \"email\" text;"), "\(alter.stdout)")
        #expect(alter.stdout.contains("--   Email: email"))
    }
}
