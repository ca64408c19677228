import Foundation
import Logging
import PlainHTTP
import SalesforceClient
@testable import Serve
import Synchronization
import SyncEngine
import Testing
import TestSupport

/// The seam the change-event stream plugs into, with a real service: started when the replica becomes active,
/// its readiness in /ready, its gauges in /metrics, its batch runs through serve's door, stopped on shutdown.
@Suite("sfpg serve: services", .serialized, .timeLimit(.minutes(3)))
struct ServeServiceTests {
    final class Probe: ServeService {
        let name = "probe"
        struct State {
            var context: ServeContext?
            var notReady: String? = "subscribing"
            var stoppedWithin: Duration?
        }
        let state = Mutex(State())
        var notReadyReason: String? { state.withLock { $0.notReady } }
        func start(_ context: ServeContext) throws { state.withLock { $0.context = context } }
        func stop(deadline: ContinuousClock.Instant) { state.withLock { $0.stoppedWithin = deadline - .now } }
    }

    @Test("a service: started when active, /ready follows it, its gauges in /metrics, its runs started, stopped first")
    func serviceLifecycle() async throws {
        let world = try await E2EFixture { $0.contactCount = 25 }
        let probe = Probe()
        let environment = ServeEnvironment(
            jobs: [try world.job("contacts")], conninfo: world.conninfo, postgres: .init(),
            salesforce: try SalesforceConfiguration.fromEnvironment(world.environment), options: SyncOptions(),
            runMetrics: { _, _ in [] })
        let process = ServeProcess(
            environment: environment, options: ServeOptions(host: "127.0.0.1", port: 0, token: nil, grace: .seconds(4)),
            services: [probe], logger: Logger(label: "serve-test") { _ in SwiftLogNoOpLogHandler() })
        let port = Atomic<Int>(0)
        let finished = Atomic<Bool>(false)
        let thread = Thread {
            try? process.run { port.store($0, ordering: .releasing) }
            finished.store(true, ordering: .releasing)
        }
        thread.start()
        #expect(E2EFixture.waitUntil { port.load(ordering: .acquiring) != 0 })
        let url = "http://127.0.0.1:\(port.load(ordering: .acquiring))"
        #expect(E2EFixture.waitUntil { probe.state.withLock { $0.context != nil } }, "never started")
        let waiting = try PlainHTTP.request("GET", url + "/ready")
        #expect(waiting.status == 503 && waiting.body.contains("probe: subscribing"), "\(waiting.body)")
        probe.state.withLock { $0.notReady = nil }
        #expect(try PlainHTTP.request("GET", url + "/ready").status == 200)

        let context = try #require(probe.state.withLock { $0.context })
        context.metrics.set(ServeMetrics.Stream.lagSeconds, help: "Lag.", labels: [("sfpg_job", "contacts")], 1.25)
        context.metrics.add(ServeMetrics.Stream.eventsApplied, help: "Events.", labels: [("sfpg_job", "contacts")], 7)
        context.metrics.add(ServeMetrics.Stream.eventsApplied, help: "Events.", labels: [("sfpg_job", "contacts")], 3)
        let metrics = try PlainHTTP.request("GET", url + "/metrics").body
        #expect(metrics.contains("sfpg_stream_lag_seconds{sfpg_job=\"contacts\"} 1.25"), "\(metrics)")
        #expect(metrics.contains("# TYPE sfpg_stream_events_applied_total counter"), "\(metrics)")
        #expect(metrics.contains("sfpg_stream_events_applied_total{sfpg_job=\"contacts\"} 10"), "\(metrics)")

        let start = context.startRun(context.jobs, .sync(.incremental), "stream")
        guard case .started(let id, _) = start else { Issue.record("\(start)"); return }
        #expect(id.hasPrefix("stream-"))
        #expect(context.startRun(context.jobs, .sync(.full), "stream") == .busy(jobs: ["contacts"]))
        #expect(try E2EFixture.waitUntil(timeout: .seconds(60)) {
            try world.count("SELECT count(*) FROM sfpg.sync_logs WHERE job_name = 'contacts' AND status = 'success'") == 1
        })

        process.requestStop()
        #expect(E2EFixture.waitUntil(timeout: .seconds(10)) { finished.load(ordering: .acquiring) })
        let stopped = try #require(probe.state.withLock { $0.stoppedWithin })
        #expect(stopped > .zero && stopped <= .seconds(2), "stop's deadline: \(stopped)")
        let late = context.startRun(context.jobs, .sync(.incremental), "stream")
        if case .refused = late {} else { Issue.record("a run started after the stop: \(late)") }
    }

    @Test("the stream's resubscribe wait doubles to 30 s while subscriptions fail, and starts over after a healthy one")
    func streamBackoff() {
        var wait = StreamService.shortestBackoff
        var waits: [Duration] = []
        for _ in 0..<8 {
            let (this, next) = StreamService.backoff(wait, after: .seconds(2))
            waits.append(this)
            wait = next
        }
        #expect(waits.map { $0 / .milliseconds(1) } == [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000])
        let afterHealthy = StreamService.backoff(wait, after: .seconds(3600))
        #expect(afterHealthy.wait == StreamService.shortestBackoff)
        #expect(afterHealthy.next == .seconds(1))
    }

    @Test("the scheduler: each minute looked at once, a full run wins over an incremental one, a verify only when no sync is due")
    func scheduler() throws {
        let base = "object: Contact\ntable: public.c\nfields:\n  Id: id\n  SystemModstamp: m\n  IsDeleted: d\n"
        let both = try JobDefinition.parse(
            yaml: base + "schedule: \"*/10 * * * *\"\nfull_schedule: \"0 3 * * *\"\n", name: "both", file: "both.yaml")
        let verifyOnly = try JobDefinition.parse(yaml: base + "verify: 1h\n", name: "verified", file: "v.yaml")
        var scheduler = Scheduler(jobs: [both, verifyOnly])
        let three = CronScheduleTests.at("2026-12-07 03:00")
        #expect(scheduler.newMinute(three) == three)
        #expect(scheduler.newMinute(three.addingTimeInterval(30)) == nil)  // same minute
        let runs = scheduler.runs(at: three, verifying: ["verified", "both"])
        #expect(runs.map { "\($0.0.name) \($0.1.name)" } == ["both full", "verified verify"])
        let tenPast = CronScheduleTests.at("2026-12-07 03:10")
        #expect(scheduler.runs(at: tenPast, verifying: []).map { "\($0.0.name) \($0.1.name)" } == ["both incremental"])
        #expect(scheduler.runs(at: CronScheduleTests.at("2026-12-07 03:11"), verifying: ["both"]).map(\.1) == [.verify])
        scheduler.activated(at: three)
        #expect(scheduler.newMinute(three) == three)  // a replica that becomes active in a matching minute runs it
    }
}
