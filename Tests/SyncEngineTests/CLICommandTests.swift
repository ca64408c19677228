import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

/// `sfpg run` with several jobs, `status --json`, `check`, and secrets kept out of output and tables.
@Suite("CLI: commands", .serialized)
struct CLICommandTests {
    @Test("sfpg run contacts accounts loads both tables")
    func twoJobsViaCLI() async throws {
        let world = try await E2EFixture { $0.contactCount = 300 }
        let result = try world.sfpg(["run", "contacts", "accounts", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 0, "\(result.stderr)")
        for name in ["contacts", "accounts"] {
            let differences = try world.differences(try world.job(name))
            #expect(differences.isEmpty, "\(name): \(differences.joined(separator: "\n"))")
        }
        #expect(try world.count("SELECT count(DISTINCT job_name) FROM sfpg.sync_logs WHERE status = 'success'") == 2)
        #expect(world.jobCreations.count == 2)
    }

    @Test("a job whose lock is held does not stop the other job of the invocation; the exit code is 5")
    func oneLockedJobOfTwo() async throws {
        let world = try await E2EFixture { $0.contactCount = 200 }
        let holder = try PostgresConnection(world.conninfo, applicationName: "sfpg-test-lock")
        try holder.execute("SELECT pg_advisory_lock(hashtext('sfpg'), hashtext('contacts'))")
        let before = world.fingerprint()
        let result = try world.sfpg(["run", "contacts", "accounts", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 5, "\(result.stderr)")
        #expect(world.fingerprint()["public.salesforce_contacts"] == before["public.salesforce_contacts"])
        let differences = try world.differences(try world.job("accounts"))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_accounts") > 0)
    }

    @Test("status --json reports counts, watermark and rows of the last run")
    func statusJSON() async throws {
        let world = try await E2EFixture { $0.contactCount = 250 }
        let job = try world.job("contacts")
        try world.sync(job, .full)
        world.emulator.org.randomRound("Contact", seed: 11, inserts: 7, updates: 9, softDeletes: 3, undeletes: 0, hardDeletes: 0)
        let incremental = try world.sync(job, nil)
        let counts = try #require(incremental.summary?.counts)

        let result = try world.sfpg(["status", "--json", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(result.status == 0, "\(result.stderr)")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
        let contacts = try #require(array.first { $0["job"] as? String == "contacts" })
        #expect(contacts["lastRunStatus"] as? String == "success")
        #expect(contacts["lastSyncType"] as? String == "incremental")
        #expect(contacts["recordsProcessed"] as? Int == counts.staged)
        #expect(contacts["recordsInserted"] as? Int == 7)
        #expect(contacts["recordsInserted"] as? Int == counts.inserted)
        #expect(contacts["recordsUpdated"] as? Int == counts.updated)
        #expect(contacts["recordsDeleted"] as? Int == counts.deleted)
        #expect(contacts["rowsInTable"] as? Int == 257)
        let modstampIndex = try #require(job.fields.firstIndex { $0.source == "SystemModstamp" })
        // The watermark rule caps it at the Bulk job's createdDate, which may fall a millisecond before the newest
        // modstamp of the round just made: status reports what is stored, at most the newest modstamp loaded.
        let stored = try world.connection.execute(
            "SELECT to_char(watermark AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM sfpg.sync_state WHERE job_name = 'contacts'")
        let newest = try #require(world.truth(job).compactMap { $0[modstampIndex] }.max())
        #expect(contacts["watermark"] as? String == stored.rows.first?.first ?? nil)
        #expect((contacts["watermark"] as? String ?? "~") <= newest)
        #expect(contacts["bulkJobInFlight"] == nil)
        // Jobs that never ran are listed too.
        let accounts = try #require(array.first { $0["job"] as? String == "accounts" })
        #expect(accounts["lastRunStatus"] == nil)

        // A job file that does not load is reported, not silently left out; the database's jobs are still shown.
        let broken = try CLIExitCodeTests.tempJobs(["broken.yaml": "object: Contact\nfields: [unclosed\n"])
        let partial = try world.sfpg(["status", "--json", "--jobs-directory", broken])
        #expect(partial.status == 0, "\(partial.stderr)")
        #expect(partial.stderr.contains("could not be read") && partial.stderr.contains("broken.yaml"), "\(partial.stderr)")
        #expect(partial.stdout.contains("\"contacts\""), "\(partial.stdout)")
    }

    @Test("check passes against the emulator and fails on a missing field")
    func check() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        let good = try world.sfpg(["check", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        #expect(!good.stdout.contains("FAIL"))

        let yaml = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8)
            .replacingOccurrences(of: "  Department: department", with: "  Division__c: department")
        let jobs = try CLIExitCodeTests.tempJobs(["contacts.yaml": yaml])
        let bad = try world.sfpg(["check", "--jobs-directory", jobs])
        #expect(bad.status == 2, "\(bad.stdout)\(bad.stderr)")
        #expect(bad.stdout.contains("FAIL") && bad.stdout.contains("Division__c"), "\(bad.stdout)")

        let denied = try world.sfpg(
            ["check", "--jobs-directory", E2EFixture.jobsDirectory], environment: ["SF_PASSWORD": "wrong"])
        #expect(denied.status == 3, "\(denied.stdout)\(denied.stderr)")
    }

    @Test("no secret or access token appears in trace output or in sfpg's tables, failing run included")
    func secretsStayOut() async throws {
        let world = try await E2EFixture { $0.contactCount = 100 }
        let arguments = ["run", "contacts", "--log-level", "trace", "--jobs-directory", E2EFixture.jobsDirectory]
        let text = try world.sfpg(arguments)
        #expect(text.status == 0, "\(text.stderr)")
        world.emulator.org.randomRound("Contact", seed: 2, inserts: 3, updates: 3, softDeletes: 1, undeletes: 0, hardDeletes: 0)
        let json = try world.sfpg(arguments + ["--log-format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let good = (status: json.status, stdout: text.stdout + json.stdout, stderr: text.stderr + json.stderr)
        let wrong = "Wrong-Pa55word-Value"
        let bad = try world.sfpg(arguments + ["--full"], environment: ["SF_PASSWORD": wrong])
        #expect(bad.status == 3, "\(bad.stderr)")
        #expect(good.stderr.contains("sync finished"), "trace output looks empty: \(good.stderr.prefix(500))")

        let tables = try world.connection.execute(
            "SELECT (SELECT coalesce(string_agg(t::text, E'\\n'), '') FROM sfpg.sync_logs t) || (SELECT coalesce(string_agg(s::text, E'\\n'), '') FROM sfpg.sync_state s)"
        ).rows.first?.first ?? nil
        let stored = try #require(tables)
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_logs") >= 1)
        // The emulator's access tokens are `00D…!AR` + 96 random characters.
        let texts = ["stdout": good.stdout + bad.stdout, "stderr": good.stderr + bad.stderr, "tables": stored]
        for (place, text) in texts {
            for secret in world.secrets + [wrong, wrong + world.configuration.securityToken] {
                #expect(!text.contains(secret), "a secret leaked into \(place)")
            }
            #expect(!text.contains("!AR"), "an access token leaked into \(place)")
        }
    }
}
