import Foundation
import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// Issue 19, items 3 and 4: an object the Bulk API refuses is read through REST `queryAll` into the same COPY path,
/// and an object too wide for one query is read in parts joined on the key, with records changed between the
/// parts' snapshots read again whole.
@Suite("Wide objects and objects Bulk cannot read", .serialized, .timeLimit(.minutes(5)))
struct WideAndRESTTests {
    func log(_ world: E2EFixture) throws -> (expected: Int, downloaded: Int, pages: Int, processed: Int) {
        let row = try world.connection.execute(
            "SELECT records_expected, records_downloaded, result_pages, records_processed FROM sfpg.sync_logs ORDER BY id DESC LIMIT 1")
        return (Int(row[0, "records_expected"] ?? "") ?? -1, Int(row[0, "records_downloaded"] ?? "") ?? -1,
                Int(row[0, "result_pages"] ?? "") ?? -1, Int(row[0, "records_processed"] ?? "") ?? -1)
    }

    func expectEqual(_ world: E2EFixture, _ job: JobDefinition) throws {
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences)")
    }

    var restBatches: (E2EFixture) -> Int = { world in
        world.emulator.requests.filter { $0.method == "GET" && $0.path.contains("/queryAll") }.count
    }

    @Test("an object the Bulk API refuses loads through REST queryAll, proven against totalSize, full and incremental")
    func refusedObjectLoadsThroughREST() async throws {
        let rows = Int(ProcessInfo.processInfo.environment["SFPG_REST_ROWS"] ?? "") ?? 5_000
        let world = try await E2EFixture {
            $0.contactCount = rows
            $0.bulkUnsupportedObjects = ["Contact"]
        }
        let job = try world.job("contacts")
        let outcome = try world.sync(job, .full)
        #expect(outcome.summary?.counts.inserted == rows)
        try expectEqual(world, job)
        // One refused job creation, then batches of 2,000 records.
        #expect(world.jobCreations.count == 1)
        let batches = (rows + 1_999) / 2_000
        #expect(restBatches(world) == batches)
        let logged = try log(world)
        #expect(logged.expected == rows && logged.downloaded == rows && logged.pages == batches)
        let watermark = try world.connection.execute("SELECT watermark FROM sfpg.sync_state WHERE job_name = 'contacts'")[0, "watermark"]
        #expect(watermark != nil)

        // Changes, a soft delete and a new record arrive with the next incremental run, through REST again.
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        world.emulator.org.update("Contact", id: ids[0], fields: ["Title": "Chief \"Quoted\", Officer\nNew line"])
        world.emulator.org.softDelete("Contact", id: ids[1])
        let added = world.emulator.org.insert("Contact", fields: ["LastName": "Ünïcødé ✓", "FirstName": nil])
        let incremental = try world.sync(job, .incremental)
        #expect(incremental.summary?.counts.inserted == 1)
        try expectEqual(world, job)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE salesforce_id = '\(added)'") == 1)
    }

    /// `Wide__c` with 600 custom fields (60 formulas) and a table and job made by `sfpg describe`.
    func wideWorld(records: Int) async throws -> (E2EFixture, JobDefinition) {
        let world = try await E2EFixture {
            $0.contactCount = 5
            $0.wideObjectFields = 600
            $0.wideObjectRecords = records
            $0.maxQueryWeight = 400
        }
        let directory = try ScratchDirectory.make("wide")
        let described = try world.sfpg(["describe", "Wide__c", "--all", "--write-job", directory + "/wide.yaml", "--apply"])
        #expect(described.status == 0, "\(described.stderr)")
        return (world, try JobDefinition.load(file: directory + "/wide.yaml"))
    }

    @Test("a 600-field object refused whole loads in parts, with records changed, created and deleted between parts")
    func wideObjectLoadsInParts() async throws {
        let (world, job) = try await wideWorld(records: 300)
        let org = world.emulator.org
        let ids = org.ids("Wide__c", includeDeleted: false)
        let runner = try world.runner()
        var created = 0
        var added = ""
        runner.onBulkJobCreated = { _ in
            created += 1
            // After the first part's snapshot: its records are older than the other parts'.
            guard created == 1 else { return }
            for id in ids.prefix(5) { org.update("Wide__c", id: id, fields: ["Field_001__c": "changed between parts"]) }
            org.softDelete("Wide__c", id: ids[5])
            org.hardDelete("Wide__c", id: ids[6])
            added = org.insert("Wide__c", fields: ["Name": "Created between parts"])
        }
        let outcome = try world.sync(job, .full, runner: runner)
        // The whole query was refused, then halves (too heavy again) and quarters and so on until each part passes.
        let partJobs = outcome.salesforceJobId?.split(separator: ",").count ?? 0
        #expect(partJobs >= 3 && world.jobCreations.count > partJobs)
        try expectEqual(world, job)
        #expect(outcome.summary?.counts.staged == 300)  // 300 - 1 hard-deleted + 1 created
        let table = try world.table(job)
        #expect(table[added] != nil && table[ids[6]] == nil)
        // The re-reads went through REST, all parts for the disagreeing records.
        #expect(restBatches(world) > 0)
        let logged = try log(world)
        #expect(logged.expected == 300 && logged.downloaded == 300)

        // An incremental run is refused whole too, and reads its changes in parts.
        for id in ids.suffix(3) { org.update("Wide__c", id: id, fields: ["Field_002__c": "12.5"]) }
        try world.sync(job, .incremental)
        try expectEqual(world, job)
    }

    @Test("fields_per_query splits even a query Salesforce would accept, one Bulk job per part")
    func fieldsPerQueryForcesParts() async throws {
        let world = try await E2EFixture { $0.contactCount = 500 }
        var job = try world.job("contacts")
        job.fieldsPerQuery = 3
        let outcome = try world.sync(job, .full)
        // 12 fields: Id and SystemModstamp in every part, the other 10 in parts of 3.
        #expect(world.jobCreations.count == 4)
        #expect(outcome.salesforceJobId?.split(separator: ",").count == 4)
        #expect(outcome.summary?.counts.inserted == 500)
        try expectEqual(world, job)
        let logged = try log(world)
        #expect(logged.expected == 500 && logged.downloaded == 500 && logged.processed == 500)
    }
}

/// `fields_per_query` and how the fields are cut into parts.
@Suite struct FieldPartsTests {
    static let yaml = """
        object: Contact
        table: public.salesforce_contacts
        fields:
          Id: salesforce_id
          Email: email
          Account.Name: account_name
          SystemModstamp: system_modstamp
          IsDeleted: is_deleted
        """

    @Test func everyPartLeadsWithTheKeyAndModstamp() throws {
        let job = try JobDefinition.parse(yaml: Self.yaml + "\nfields_per_query: 2", name: "contacts", file: "jobs/contacts.yaml")
        #expect(job.fieldsPerQuery == 2)
        #expect(SyncRunner.fieldParts(job, size: 2) == [
            ["Id", "SystemModstamp", "IsDeleted", "Email"], ["Id", "SystemModstamp", "Account.Name"],
        ])
        #expect(SyncRunner.fieldParts(job, size: 10) == [["Id", "SystemModstamp", "IsDeleted", "Email", "Account.Name"]])
        #expect(throws: JobDefinitionError.self) {
            try JobDefinition.parse(yaml: Self.yaml + "\nfields_per_query: 0", name: "contacts", file: "jobs/contacts.yaml")
        }
    }

    @Test(arguments: [
        ("QUERY_TOO_COMPLICATED", "Query is either selecting too many fields or the filter conditions are very complicated.", true),
        ("MALFORMED_QUERY", "SOQL statements cannot be longer than 100000 characters; this one has 100012", true),
        ("MALFORMED_QUERY", "unexpected token: FROM", false),
        ("INVALIDENTITY", "Entity 'CaseStatus' is not supported by the Bulk API.", false),
    ])
    func onlyRefusalsOfWidthSplitTheFields(code: String, message: String, wide: Bool) {
        let error = SalesforceError(code: .invalidQuery, message: "Salesforce rejected the bulk query", errorCode: code, serverMessage: message)
        #expect(SyncRunner.tooWide(error) == wide)
        #expect(SyncRunner.refusesBulk(error) == (code == "INVALIDENTITY"))
    }

    @Test func aRESTReadIsDatedByItsFirstBatchsDateHeader() throws {
        let date = try #require(SyncRunner.httpDate("Mon, 07 Dec 2026 00:19:36 GMT"))
        #expect(date.timeIntervalSince1970 == 1_796_602_776)
        #expect(SyncRunner.httpDate("yesterday") == nil)
    }
}
