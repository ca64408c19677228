import Foundation
import PostgresLoader
import Testing
import TestSupport

@testable import SyncEngine

/// The files of one jobs directory checked against each other: one name per job, one job per table unless the
/// jobs declare they share it. Through `loadAll`/`JobSelection` and through the `sfpg` executable (exit 2).
@Suite("Job identity")
struct JobIdentityTests {
    /// A job file on `table`, with extra lines appended.
    static func job(table: String = "public.salesforce_contacts", _ extra: String = "") -> String {
        """
        object: Contact
        table: \(table)
        fields:
          Id: salesforce_id
          SystemModstamp: system_modstamp
          IsDeleted: is_deleted

        """ + extra
    }

    static let sharing = "where: \"LeadSource = 'Web'\"\nsweep: false\n"

    func loadError(_ files: [String: String], names: [String] = []) throws -> (JobDefinitionError, String)? {
        let directory = try CLIExitCodeTests.tempJobs(files)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try JobSelection.load(directory: directory, names: names)
            return nil
        } catch let error as JobDefinitionError {
            return (error, directory)
        }
    }

    @Test("x.yaml and x.yml are one job name twice: refused, naming both files")
    func duplicateName() throws {
        let (error, directory) = try #require(try loadError(["x.yaml": Self.job(), "x.yml": Self.job(table: "other")]))
        #expect(error.description.contains("\(directory)/x.yaml"), "\(error)")
        #expect(error.description.contains("\(directory)/x.yml"), "\(error)")
        #expect(error.problem.contains("job name 'x'"), "\(error)")
        #expect(ExitStatus(for: error) == .configuration)
    }

    @Test("a conflict elsewhere in the directory is refused even when only another job is selected")
    func conflictOutsideTheSelection() throws {
        let files = ["contacts.yaml": Self.job(table: "t1"), "x.yaml": Self.job(), "x.yml": Self.job(table: "t2")]
        let (error, _) = try #require(try loadError(files, names: ["contacts"]))
        #expect(error.problem.contains("whichever jobs the command names"), "\(error)")
    }

    @Test(
        "two jobs on one table are refused, naming both jobs and files",
        arguments: [
            ("public.salesforce_contacts", "public.salesforce_contacts"),
            ("public.salesforce_contacts", "salesforce_contacts"),  // unqualified is public
            ("public.salesforce_contacts", "'\"public\".\"salesforce_contacts\"'"),  // quoting the same spelling
        ])
    func sameTable(first: String, second: String) throws {
        let files = ["a.yaml": Self.job(table: first), "b.yaml": Self.job(table: second)]
        let (error, directory) = try #require(try loadError(files))
        for text in ["'a'", "'b'", "\(directory)/a.yaml", "\(directory)/b.yaml", "\"public\".\"salesforce_contacts\""] {
            #expect(error.description.contains(text), "missing \(text): \(error)")
        }
        #expect(error.key == "table")
        #expect(error.problem.contains("sweep: false"), "\(error)")
    }

    @Test(
        "sharing a table needs where: and sweep: false in both jobs",
        arguments: [
            (sharing, "where: \"LeadSource = 'Phone'\"\n", "'b' has no sweep: false"),
            (sharing, "sweep: false\n", "'b' has no where:"),
            ("", "", "'a' has no where: and no sweep: false; 'b' has no where: and no sweep: false"),
        ])
    func halfDeclaredSharing(first: String, second: String, gap: String) throws {
        let files = ["a.yaml": Self.job(first), "b.yaml": Self.job(second)]
        let (error, _) = try #require(try loadError(files))
        #expect(error.problem.contains(gap), "\(error)")
    }

    @Test("two jobs that both declare the shared table (where: + sweep: false) are accepted")
    func declaredSharing() throws {
        let other = "where: \"LeadSource = 'Phone'\"\nsweep: false\n"
        let directory = try CLIExitCodeTests.tempJobs(["a.yaml": Self.job(Self.sharing), "b.yaml": Self.job(other)])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let jobs = try JobDefinition.loadAll(directory: directory)
        #expect(jobs.map(\.name) == ["a", "b"])
        #expect(jobs.allSatisfy { !$0.sweepsOnFullSync })
    }

    @Test("table names compare as sfpg quotes them: other spellings and other schemas are other tables")
    func distinctTables() throws {
        let files = [
            "a.yaml": Self.job(table: "salesforce_contacts"), "b.yaml": Self.job(table: "Salesforce_Contacts"),
            "c.yaml": Self.job(table: "archive.salesforce_contacts"),
        ]
        let directory = try CLIExitCodeTests.tempJobs(files)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try JobDefinition.loadAll(directory: directory).count == 3)
    }

    @Test("sfpg run and sfpg check exit 2 on a duplicate job name, naming both files")
    func duplicateNameThroughTheCLI() throws {
        let contacts = try CLIExitCodeTests.contactsYAML
        let directory = try CLIExitCodeTests.tempJobs([
            "contacts.yaml": contacts, "x.yaml": Self.job(table: "x"), "x.yml": Self.job(table: "x_too"),
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try TestSyncProcess.run(["run", "contacts", "--jobs-directory", directory], environment: [:])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("x.yaml") && run.stderr.contains("x.yml"), "\(run.stderr)")

        let (conninfo, _) = try TestPostgres.makeMigratedDatabase()
        let check = try TestSyncProcess.run(
            ["check", "--jobs-directory", directory, "--database-url", conninfo], environment: [:])
        #expect(check.status == 2, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("FAIL  job files") && check.stdout.contains("x.yml"), "\(check.stdout)")
    }

    @Test("sfpg run of one job exits 2 when two other jobs load one table")
    func sameTableThroughTheCLI() throws {
        let contacts = try CLIExitCodeTests.contactsYAML
        let directory = try CLIExitCodeTests.tempJobs([
            "contacts.yaml": contacts, "web.yaml": Self.job(table: "leads"), "phone.yaml": Self.job(table: "public.leads"),
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try TestSyncProcess.run(["run", "contacts", "--jobs-directory", directory], environment: [:])
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("'phone'") && result.stderr.contains("'web'"), "\(result.stderr)")
        #expect(result.stderr.contains("phone.yaml") && result.stderr.contains("web.yaml"), "\(result.stderr)")
    }
}
