import Foundation
import PlainHTTP
import PostgresLoader
import SyncEngine
import Testing
import TestSupport

/// `sfpg serve` as its users meet it: the `sfpg` binary over real HTTP, against the emulator and a real database.
@Suite("CLI: sfpg serve", .serialized, .timeLimit(.minutes(5)))
struct ServeTests {
    static let token = "serve-test-token-5f1c"

    /// A running `sfpg serve` and its base URL; SIGTERMed (then killed) when released.
    final class Server {
        let process: TestSyncProcess
        let url: String

        init(_ world: E2EFixture, jobs: String = E2EFixture.jobsDirectory, token: String? = ServeTests.token,
             databaseURL: String? = nil, extra: [String] = []) throws {
            let port = try TestSyncProcess.freeLoopbackPort()
            url = "http://127.0.0.1:\(port)"
            var environment = world.environment
            environment["SFPG_SERVE_TOKEN"] = token
            let arguments = ["serve", "--port", "\(port)", "--jobs-directory", jobs, "--grace", "6s", "--log-format", "json"]
                + extra + ["--database-url", databaseURL ?? world.conninfo]
            process = try TestSyncProcess(try TestBinaries.path("sfpg"), arguments, environment: environment)
            let up = E2EFixture.waitUntil { (try? self.get("/health").status) == 200 }
            try #require(up, "sfpg serve did not answer /health: \(process.standardError)")
        }

        func get(_ path: String) throws -> PlainHTTP.Response { try PlainHTTP.request("GET", url + path, timeoutSeconds: 10) }

        func post(_ path: String, token: String? = ServeTests.token) throws -> PlainHTTP.Response {
            try PlainHTTP.request("POST", url + path, body: "", headers: token.map { ["Authorization: Bearer \($0)"] } ?? [])
        }

        func ready(timeout: Duration = .seconds(20)) -> Bool {
            E2EFixture.waitUntil(timeout: timeout) { (try? self.get("/ready").status) == 200 }
        }

        func stop() -> Int32 {
            process.send(SIGTERM)
            return process.wait(timeout: .seconds(30))
        }
    }

    /// Two `sfpg serve` on one database, the first one active.
    static func twoReplicas(contacts: Int) async throws -> (E2EFixture, Server, Server) {
        let world = try await E2EFixture { $0.contactCount = contacts }
        let first = try Server(world)
        #expect(first.ready())
        return (world, first, try Server(world))
    }

    @Test("POST /sync/incremental/contacts: 401 without the token, 404 for an unknown job, 202 and the run happens, 409 while the lock is held")
    func triggerRuns() async throws {
        let world = try await E2EFixture { $0.contactCount = 120 }
        let server = try Server(world)
        #expect(server.ready(), "\(server.process.standardError)")
        #expect(try server.post("/sync/incremental/contacts", token: nil).status == 401)
        #expect(try server.post("/sync/incremental/contacts", token: "wrong-token-7d2").status == 401)
        #expect(try server.post("/sync/incremental/contacts", token: Self.token + "x").status == 401)
        #expect(try server.post("/sync/incremental/nope").status == 404)
        #expect(try server.get("/sync/incremental/contacts").status == 404)

        let started = try server.post("/sync/incremental/contacts")
        #expect(started.status == 202, "\(started.body)")
        let body = try JSONSerialization.jsonObject(with: Data(started.body.utf8)) as? [String: Any]
        let runId = try #require(body?["runId"] as? String, "\(started.body)")
        #expect(runId.hasPrefix("http-") && runId.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }, "\(runId)")
        #expect(body?["jobs"] as? [String] == ["contacts"])
        // The caller finds its run's log row by the run id it was given.
        let ran = try E2EFixture.waitUntil(timeout: .seconds(60)) {
            try world.count(
                "SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'contacts' AND status = 'success' AND request_id = '\(runId)'") == 1
        }
        #expect(ran, "\(server.process.standardError)")
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts") == 120)

        // Another session holds the job's lock (a `sfpg run`, the stream): the POST is refused, nothing starts.
        // (`.wait`: serve's own run still holds it for a moment after its commit, recording its API usage.)
        try SyncStore(world.connection).withJobLock("contacts", table: try world.job("contacts").table, policy: .wait) { _ in
            let refused = try server.post("/sync/full/contacts")
            #expect(refused.status == 409, "\(refused.body)")
        }
        #expect(server.stop() == 0, "\(server.process.standardError)")
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'contacts'") == 1)
        let logs = server.process.standardError + server.process.standardOutput
        #expect(!logs.contains(Self.token) && !logs.contains("wrong-token-7d2"), "a presented or configured token was logged")
        #expect(logs.contains("serve.run_id"), "\(logs)")
    }

    @Test("GET /sync/stats is sfpg status --json; /metrics is Prometheus text (promtool) with run and serve metrics")
    func statsAndMetrics() async throws {
        let world = try await E2EFixture { $0.contactCount = 50 }
        try world.sync(try world.job("accounts"), .full)
        let server = try Server(world)
        #expect(server.ready())
        #expect(try server.post("/sync/full/contacts").status == 202)
        // Finished, not just committed: after its commit a run still records its API usage on its row.
        #expect(E2EFixture.waitUntil(timeout: .seconds(60)) {
            (try? server.get("/metrics").body)?.contains("sfpg_serve_run_duration_seconds{sfpg_job=\"contacts\"}") == true
        })
        let stats = try server.get("/sync/stats")
        #expect(stats.status == 200)
        let status = try world.sfpg(["status", "--json", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(status.status == 0, "\(status.stderr)")
        // Only the freshness lag moves between the two reads.
        func comparable(_ text: String) throws -> NSArray {
            let jobs = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
            return jobs.map { $0.filter { $0.key != "secondsSinceLastSuccess" } } as NSArray
        }
        #expect(try comparable(stats.body) == comparable(status.stdout), "\(stats.body)\n---\n\(status.stdout)")
        #expect(try comparable(stats.body).count == 3)

        let metrics = try server.get("/metrics")
        #expect(metrics.status == 200)
        for series in ["sfpg_serve_runs_started_total{trigger=\"http\"} 1", "sfpg_run_status{sfpg_job=\"contacts\",object=\"Contact\"} 1",
                       "sfpg_serve_active 1", "sfpg_serve_run_duration_seconds{sfpg_job=\"contacts\"}"] {
            #expect(metrics.body.contains(series), "\(series) missing:\n\(metrics.body)")
        }
        let lint = try TestSyncProcess.run(try TestSyncProcess.which("promtool"), ["check", "metrics"],
                                           environment: [:], input: Array(metrics.body.utf8))
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        #expect(server.stop() == 0)
    }

    @Test("without a database: /health 200, /ready 503; without a token the POST endpoints are off (403); SIGTERM exits 0")
    func noDatabaseNoToken() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        let closed = try TestSyncProcess.freeLoopbackPort()
        let server = try Server(world, token: nil, databaseURL: "postgresql://sfpg@127.0.0.1:\(closed)/none?connect_timeout=2")
        #expect(try server.get("/health").status == 200)
        let ready = try server.get("/ready")
        #expect(ready.status == 503 && ready.body.contains("database"), "\(ready.body)")
        let off = try server.post("/sync/incremental")
        #expect(off.status == 403 && off.body.contains("SFPG_SERVE_TOKEN"), "\(off.body)")
        #expect(server.stop() == 0, "\(server.process.standardError)")
    }

    @Test("a second sfpg serve waits as a standby (/ready 503, /health 200) and takes over when the first dies")
    func standbyTakesOver() async throws {
        let (world, first, second) = try await Self.twoReplicas(contacts: 30)
        #expect(try second.get("/health").status == 200)
        try await Task.sleep(for: .seconds(2))  // two lock polls of the standby
        let standby = try second.get("/ready")
        #expect(standby.status == 503 && standby.body.contains("standby"), "\(standby.body)")
        #expect(try second.post("/sync/incremental/contacts").status == 503)

        first.process.send(SIGKILL)
        _ = first.process.wait()
        #expect(second.ready(), "the standby never took over: \(second.process.standardError)")
        #expect(try second.post("/sync/incremental/contacts").status == 202)
        #expect(try E2EFixture.waitUntil(timeout: .seconds(60)) {
            try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'contacts'") == 1
        })
        #expect(second.stop() == 0)
    }

    @Test("a job's schedule: starts its run with no request, and a verify: that is due runs too")
    func scheduleFires() async throws {
        let world = try await E2EFixture { $0.contactCount = 40 }
        let contacts = try String(contentsOfFile: E2EFixture.jobsDirectory + "/contacts.yaml", encoding: .utf8)
        let accounts = try String(contentsOfFile: E2EFixture.jobsDirectory + "/accounts.yaml", encoding: .utf8)
        let jobs = try CLIExitCodeTests.tempJobs([
            "contacts.yaml": contacts + "schedule: \"* * * * *\"\n",
            "accounts.yaml": accounts + "verify: 1h\n",  // never verified: due at once
        ])
        let server = try Server(world, jobs: jobs)
        let ran = try E2EFixture.waitUntil(timeout: .seconds(90)) {
            try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'contacts' AND status = 'success'") >= 1
                && world.count("SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'accounts' AND sync_type = 'verify'") == 1
        }
        #expect(ran, "\(server.process.standardError)")
        #expect(server.process.standardError.contains("schedule-"))
        // accounts has no schedule: it was verified, never synced.
        #expect(try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'accounts' AND sync_type <> 'verify'") == 0)
        #expect(server.stop() == 0)
    }

    @Test("SIGTERM during a run: the batch is cancelled within the grace period (logged as cancelled), exit 0")
    func sigtermCancelsRun() async throws {
        let world = try await E2EFixture { $0.contactCount = 60 }
        world.emulator.faults.slowInProgress(polls: 1000)
        let server = try Server(world, extra: ["--grace", "10s"])
        #expect(server.ready())
        #expect(try server.post("/sync/full/contacts").status == 202)
        #expect(try E2EFixture.waitUntil {
            try world.count("SELECT count(*) FROM sfpg.sync_state WHERE bulk_job_id IS NOT NULL") == 1
        })
        let start = ContinuousClock.now
        #expect(server.stop() == 0, "\(server.process.standardError)")
        #expect(ContinuousClock.now - start < .seconds(10), "took longer than --grace 10s")
        let statuses = try world.connection.execute("SELECT status FROM sfpg.sync_logs WHERE job_name = 'contacts'").rows
        #expect(statuses.map { $0[0] ?? "" } == ["cancelled"], "\(statuses)")
    }
}

extension ServeTests {
    @Test("a port already in use is a configuration error (exit 2) naming the flag")
    func portInUse() async throws {
        let world = try await E2EFixture { $0.contactCount = 5 }
        let server = try Server(world)
        let port = try #require(URL(string: server.url)?.port)
        let second = try world.sfpg(["serve", "--port", "\(port)", "--jobs-directory", E2EFixture.jobsDirectory])
        #expect(second.status == 2, "\(second.stderr)")
        #expect(second.stderr.contains("--port"), "\(second.stderr)")
        #expect(server.stop() == 0)
    }
}

extension ServeTests {
    @Test("an active replica whose lock session dies becomes a standby; the other one takes over: one active at a time")
    func lostLockSession() async throws {
        let (world, first, second) = try await Self.twoReplicas(contacts: 5)
        try world.connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sfpg serve (lock)' AND datname = current_database()")
        #expect(second.ready(), "\(second.process.standardError)")
        func role(_ server: Server) -> String? {
            (try? server.get("/health")).flatMap { try? JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: String] }?["role"]
        }
        #expect(E2EFixture.waitUntil { role(first) == "standby" }, "\(first.process.standardError)")
        #expect(role(second) == "active")
        #expect(first.process.standardError.contains("lost the database session"), "\(first.process.standardError)")
        #expect(try first.get("/ready").status == 503)
        #expect(first.stop() == 0)
        #expect(second.stop() == 0)
    }
}
