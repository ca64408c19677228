import Foundation
import PostgresLoader
import Testing

@testable import SyncEngine

@Suite struct JobDefinitionTests {
    static let valid = """
        object: Contact
        table: public.salesforce_contacts
        fields:
          Id: salesforce_id
          Email: email
          Account.Name: account_name
          SystemModstamp: system_modstamp
          IsDeleted: is_deleted
        """

    func parse(_ yaml: String) throws -> JobDefinition {
        try JobDefinition.parse(yaml: yaml, name: "contacts", file: "jobs/contacts.yaml")
    }

    func parseError(_ yaml: String) -> JobDefinitionError? {
        do {
            _ = try parse(yaml)
            return nil
        } catch let error as JobDefinitionError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test func parsesAJobWithDefaults() throws {
        let job = try parse(Self.valid)
        #expect(job.object == "Contact")
        #expect(job.table == TableName(schema: "public", name: "salesforce_contacts"))
        #expect(job.key == "Id")
        #expect(job.watermark == "SystemModstamp")
        #expect(job.deletes == .soft)
        #expect(job.overlapSeconds == 300)
        #expect(job.fields.map(\.source) == ["Id", "Email", "Account.Name", "SystemModstamp", "IsDeleted"])
        #expect(job.fields.map(\.line) == [4, 5, 6, 7, 8])
        // The loader's order is key, watermark, IsDeleted, then the rest in file order: the SOQL SELECT order.
        #expect(job.loadMapping.sourceFields == ["Id", "SystemModstamp", "IsDeleted", "Email", "Account.Name"])
        #expect(job.sweepsOnFullSync)
    }

    @Test func readsEveryOption() throws {
        let job = try parse(Self.valid + "\ndeletes: hard\nwhere: \"Email != null\"\npage_size: 20000\noverlap: 2m\n")
        #expect(job.deletes == .hard)
        #expect(job.whereClause == "Email != null")
        #expect(job.pageSize == 20000)
        #expect(job.overlapSeconds == 120)
        #expect(!job.sweepsOnFullSync)
    }

    @Test(arguments: [
        ("table: x\nfields:\n  Id: id\n", "object", "is required"),
        ("object: Contact\nfields:\n  Id: id\n", "table", "is required"),
        ("object: Contact\ntable: t\n", "fields", "is required"),
        (valid + "\ncolour: blue\n", "colour", "unknown key"),
        (valid + "\ndeletes: sometimes\n", "deletes", "not one of soft, hard, ignore"),
        (valid + "\nkey: ExternalId__c\n", "key", "must also be mapped"),
        (valid + "\npage_size: lots\n", "page_size", "not a whole number"),
        (valid + "\noverlap: soon\n", "overlap", "not a duration"),
        ("object: Contact\ntable: t\nfields:\n  Id: id\n  SystemModstamp: m\n", "fields", "needs IsDeleted"),
        ("object: Contact\ntable: t\nfields:\n  Id: id\n  Email: id\n", "fields.Email", "already the target"),
        ("object: Con tact\ntable: t\nfields:\n  Id: id\n", "object", "not a Salesforce object"),
        ("object: Contact\ntable: t\nfields:\n  Bad-Field: x\n", "fields", "not a Salesforce field"),
        (valid + "\nsweep: sometimes\n", "sweep", "not true or false"),
        (valid + "\nmax_sweep: lots\n", "max_sweep", "not a percentage"),
    ])
    func rejectsWithFileKeyAndReason(yaml: String, key: String, problem: String) throws {
        let error = try #require(parseError(yaml))
        #expect(error.file == "jobs/contacts.yaml")
        #expect(error.key == key)
        #expect(error.problem.contains(problem), "\(error.problem)")
        #expect(error.description.hasPrefix("jobs/contacts.yaml"))
    }

    @Test func pointsAtTheLineOfTheBadKey() throws {
        let error = try #require(parseError(Self.valid + "\ndeletes: maybe\n"))
        #expect(error.line == 9)
        #expect(error.description.contains("jobs/contacts.yaml:9"))
    }

    @Test func sweepIsOnByDefaultAndSweepFalseTurnsTheFullSweepOff() throws {
        #expect(try parse(Self.valid).sweep)
        #expect(try parse(Self.valid + "\nsweep: true\n").sweepsOnFullSync)
        let job = try parse(Self.valid + "\nsweep: false\n")
        #expect(!job.sweep)
        #expect(!job.sweepsOnFullSync)
    }

    @Test(arguments: [
        ("10%", SweepLimit.fraction(0.10)), ("2.5%", .fraction(0.025)), ("0%", .fraction(0)), ("100%", .fraction(1)),
        ("0.5 %", .fraction(0.005)), ("5000", .count(5000)), ("0", .count(0)),
    ])
    func readsMaxSweep(text: String, expected: SweepLimit) throws {
        let job = try parse(Self.valid + "\nmax_sweep: \(text)\n")
        #expect(job.maxSweep == expected)
        #expect(job.loadMapping.maxSweep == expected)
    }

    @Test func maxSweepDefaultsToTenPercent() throws {
        #expect(try parse(Self.valid).maxSweep == .default)
        #expect(try parse(Self.valid).loadMapping.maxSweep == .fraction(0.10))
    }

    @Test(arguments: ["-5", "-1%", "101%", "100.5%", "ten", "5.5", "1e3", "0x10", "\"%\"", "nan%", "inf", "1.2.3%", "+5", "\"\""])
    func rejectsBadMaxSweepAtItsLine(text: String) throws {
        let error = try #require(parseError(Self.valid + "\nmax_sweep: \(text)\npage_size: 10\n"))
        #expect(error.key == "max_sweep")
        #expect(error.line == 9)
        #expect(error.description.hasPrefix("jobs/contacts.yaml:9: 'max_sweep'"), "\(error)")
    }

    @Test func rejectsMalformedYAML() throws {
        let error = try #require(parseError("object: [Contact\ntable: t"))
        #expect(error.problem.contains("not valid YAML"))
    }

    @Test func builtInContactsJobIsTheShippedFile() throws {
        let shipped = try String(contentsOf: Self.repository.appending(path: "jobs/contacts.yaml"), encoding: .utf8)
        #expect(shipped == JobDefinition.builtInContactsYAML)
        _ = try JobDefinition.builtInContacts()
    }

    @Test func everyShippedJobParses() throws {
        let jobs = try JobDefinition.loadAll(directory: Self.repository.appending(path: "jobs").path)
        #expect(jobs.map(\.name) == ["accounts", "contacts", "opportunities"])
        #expect(jobs.first { $0.name == "opportunities" }?.deletes == .hard)
    }

    @Test func selectionNamesUnknownJobs() throws {
        let directory = Self.repository.appending(path: "jobs").path
        #expect(try JobSelection.load(directory: directory, names: ["contacts"]).map(\.name) == ["contacts"])
        #expect(throws: JobDefinitionError.self) { try JobSelection.load(directory: directory, names: ["leads"]) }
    }

    @Test(arguments: [
        ("LastModifiedDate", "last_modified_date"), ("Account.Name", "account_name"), ("Score__c", "score"),
        ("Id", "id"), ("HTMLBody", "html_body"), ("Is_VIP__c", "is_vip"),
    ])
    func snakeCasesApiNames(name: String, expected: String) {
        #expect(name.snakeCased == expected)
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}
