import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

@Suite("Schema drift: deleted fields, new fields, backfill")
struct DriftTests {
    static func contactsYAML(extra: String = "", fields: [String] = ["Title: title"]) -> String {
        """
        object: Contact
        table: public.salesforce_contacts
        fields:
          Id: salesforce_id
          LastName: last_name
        \(fields.map { "  " + $0 }.joined(separator: "\n"))
          SystemModstamp: system_modstamp
          IsDeleted: is_deleted
        \(extra)
        """
    }

    @Test("a field deleted in Salesforce fails the run before any Bulk job, naming the field and its line")
    func removedFieldFails() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        let job = try world.writeJob(Self.contactsYAML(), name: "contacts")
        world.emulator.org.removeField("Contact", field: "Title")
        let outcome = try world.runner().run(job, options: SyncOptions(mode: .full))
        #expect(outcome.status == .configuration)
        #expect(outcome.error?.contains("\(job.file):6") ?? false, "\(outcome.error ?? "")")
        #expect(outcome.error?.contains("'Title'") ?? false)
        #expect(world.jobCreations.isEmpty)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }

    @Test("on_missing_field: skip loads the other fields and leaves the missing one's column alone")
    func removedFieldSkipped() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        let job = try world.writeJob(Self.contactsYAML(extra: "on_missing_field: skip"), name: "contacts")
        #expect(job.onMissingField == .skip)
        world.emulator.org.removeField("Contact", field: "Title")
        try world.sync(job, .full)
        #expect(world.submittedSOQL == ["SELECT Id, SystemModstamp, IsDeleted, LastName FROM Contact"])
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE title IS NULL") == 50)
    }

    @Test("sfpg check's field list: fields in Salesforce but not in the job, never compound ones")
    func unmappedFields() async throws {
        let world = try await E2EFixture { $0.contactCount = 5 }
        let job = try world.writeJob(Self.contactsYAML(), name: "contacts")
        let check = FieldCheck(client: try world.describeClient())
        let unmapped = try check.unmappedFields(job).map(\.name)
        #expect(unmapped.contains("Languages__c"))
        #expect(unmapped.contains("Email"))
        #expect(!unmapped.contains("Title"))
        #expect(!unmapped.contains("MailingAddress"))
    }

    @Test("a field added to the job is backfilled by a narrow query of the key plus the new fields, not a full reload")
    func addedFieldIsBackfilled() async throws {
        let world = try await E2EFixture { $0.contactCount = 300 }
        let before = try world.writeJob(Self.contactsYAML(), name: "contacts")
        try world.sync(before, .full)
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE department IS NOT NULL OR email IS NOT NULL") == 0)
        let changed = world.emulator.org.ids("Contact", includeDeleted: false)[7]
        world.emulator.org.update("Contact", id: changed, fields: ["Title": "CFO"])

        let after = try world.writeJob(Self.contactsYAML(fields: ["Title: title", "Department: department", "Email: email"]), name: "contacts")
        let outcome = try world.sync(after, nil)
        #expect(outcome.plan?.mode == .incremental)
        let soql = world.submittedSOQL
        #expect(soql.count == 3)
        #expect(soql.last == "SELECT Id, SystemModstamp, Department, Email FROM Contact")
        #expect(soql[1].contains("SystemModstamp >= "), "the run itself stays incremental: \(soql[1])")
        let differences = try world.differences(after)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(try world.value("SELECT array_to_string(synced_fields, ',') FROM sfpg.sync_state")
            == "Id,LastName,Title,Department,Email,SystemModstamp,IsDeleted")

        // Once backfilled, the next run is an ordinary incremental one.
        try world.sync(after, nil)
        #expect(world.submittedSOQL.count == 4)
        #expect(world.submittedSOQL.last?.contains("SystemModstamp >= ") ?? false)
    }

    @Test("sfpg check notes the fields a job does not map, and still passes")
    func checkNotesNewFields() async throws {
        let world = try await E2EFixture { $0.contactCount = 5 }
        let job = try world.writeJob(Self.contactsYAML(), name: "contacts")
        let directory = (job.file as NSString).deletingLastPathComponent
        let result = try world.sfpg(["check", "--jobs-directory", directory])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let note = result.stdout.split(separator: "\n").first { $0.hasPrefix("note  contacts:") }.map(String.init) ?? ""
        #expect(note.contains("Languages__c"), "\(result.stdout)")
        #expect(!note.contains("MailingAddress") && !note.contains(" Title"))
    }
}

