import Testing

@testable import SyncEngine

/// Durations in job files: a huge one is a job-file error with its line, never an arithmetic trap.
@Suite struct JobDurationTests {
    static let valid = """
        object: Contact
        table: public.salesforce_contacts
        fields:
          Id: salesforce_id
          SystemModstamp: system_modstamp
          IsDeleted: is_deleted
        """

    @Test(arguments: [
        ("overlap", "9999999999999999d"), ("overlap", "9223372036854775807m"), ("overlap", "3661d"),
        ("refresh_calculated", "999999999999999h"), ("overlap", "99999999999999999999999"),
    ])
    func overflowingOrHugeDurationsAreJobFileErrors(key: String, value: String) throws {
        var yaml = Self.valid + "\n\(key): \(value)\n"
        if key == "audit_retention" { yaml += "audit: true\n" }
        do {
            _ = try JobDefinition.parse(yaml: yaml, name: "contacts", file: "jobs/contacts.yaml")
            Issue.record("\(key): \(value) was accepted")
        } catch let error as JobDefinitionError {
            #expect(error.key == key)
            #expect(error.line == 7, "\(error)")
            #expect(error.description.contains("jobs/contacts.yaml:7"))
        }
    }

    @Test func auditRetentionIsCheckedToo() throws {
        let yaml = Self.valid + "\naudit: true\naudit_retention: 9999999999999999d\n"
        #expect(throws: JobDefinitionError.self) {
            _ = try JobDefinition.parse(yaml: yaml, name: "contacts", file: "jobs/contacts.yaml")
        }
    }

    @Test func tenYearsIsTheLimit() throws {
        let job = try JobDefinition.parse(yaml: Self.valid + "\noverlap: 3660d\n", name: "contacts", file: "jobs/contacts.yaml")
        #expect(job.overlapSeconds == 3660 * 86_400)
    }
}

/// Job-file durations read the one grammar of `DurationSyntax`, at every key that takes one.
@Suite struct JobDurationGrammarTests {
    @Test(arguments: [
        ("300", 300), ("90s", 90), ("5m", 300), ("5min", 300), ("2h", 7200), ("1d", 86_400), ("2000ms", 2),
    ])
    func everyFormAtEveryKey(text: String, seconds: Int) throws {
        let yaml = JobDurationTests.valid
            + "\noverlap: \(text)\nrefresh_calculated: \(text)\naudit: true\naudit_retention: \(text)\n"
        let job = try JobDefinition.parse(yaml: yaml, name: "contacts", file: "jobs/contacts.yaml")
        #expect(job.overlapSeconds == seconds)
        #expect(job.refreshCalculatedSeconds == seconds)
        #expect(job.auditRetentionSeconds == seconds)
    }

    @Test(arguments: ["overlap", "refresh_calculated"])
    func aBadDurationNamesTheKeyTheLineAndTheForms(key: String) throws {
        let yaml = JobDurationTests.valid + "\n\(key): 5 minutes\n"
        let error = #expect(throws: JobDefinitionError.self) {
            _ = try JobDefinition.parse(yaml: yaml, name: "contacts", file: "jobs/contacts.yaml")
        }
        #expect(error?.key == key)
        #expect(error?.description.contains("jobs/contacts.yaml:7") == true)
        #expect(error?.description.contains("90s, 5m, 5min, 2h, 1d") == true, "\(String(describing: error))")
    }

    @Test func aFractionOfASecondIsRefused() {
        #expect(throws: JobDefinitionError.self) {
            _ = try JobDefinition.parse(yaml: JobDurationTests.valid + "\noverlap: 1500ms\n", name: "c", file: "c.yaml")
        }
    }
}
