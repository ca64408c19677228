import Foundation
import Metrics
import PostgresLoader
import SyncEngine

/// The endpoints of `sfpg serve`: the seed's (`/health`, `POST /sync/full|incremental[/JOB]`, `/sync/stats`) and
/// `/ready`, `/metrics`. GETs are open; POSTs need `Authorization: Bearer $SFPG_SERVE_TOKEN` and are off (403)
/// when no token is configured.
struct ServeRoutes: Sendable {
    let process: ServeProcess

    /// `/health`, answered without touching the database.
    func quick(_ request: HTTPRequest) -> HTTPReply? {
        request.method == "GET" && request.path.split(separator: "/") == ["health"] ? .json(200, ["status": "alive", "role": process.role.rawValue]) : nil
    }

    func reply(_ request: HTTPRequest) -> HTTPReply {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (request.method, parts) {
        case ("GET", ["ready"]): return ready()
        case ("GET", ["sync", "stats"]): return stats()
        case ("GET", ["metrics"]): return metrics()
        case ("POST", let path) where path.count >= 2 && path.count <= 3 && path[0] == "sync":
            guard let mode = SyncMode(rawValue: path[1]) else { return .json(404, ["error": "no such endpoint"]) }
            return startRun(mode: mode, job: path.count == 3 ? path[2] : nil, authorization: request.authorization)
        case (_, ["health"]), (_, ["ready"]), (_, ["sync", "stats"]), (_, ["metrics"]):
            return .json(405, ["error": "method not allowed"])
        default: return .json(404, ["error": "no such endpoint"])
        }
    }

    func ready() -> HTTPReply {
        let reason = process.notReadyReason()
        return .json(reason == nil ? 200 : 503, Readiness(ready: reason == nil, reason: reason))
    }

    struct Readiness: Encodable {
        var ready: Bool
        var reason: String?
    }

    func stats() -> HTTPReply {
        do {
            let connection = try process.environment.connect()
            return HTTPReply(status: 200, body: try StatusReport.json(connection, jobs: process.environment.jobs) + "\n")
        } catch {
            return .json(503, ["error": "\(error)"])
        }
    }

    func metrics() -> HTTPReply {
        var families = process.metrics.snapshot()
        families.append(MetricFamily(
            "sfpg_serve_active", help: "1 while this sfpg serve is the active replica (holds the serve lock), else 0.",
            samples: [.init([], process.role == .active ? 1 : 0)]))
        let outcomes = process.runs.latestOutcomes
        if !outcomes.isEmpty, let connection = try? process.environment.connect() {
            families = process.environment.runMetrics(outcomes, SyncStore(connection)) + families
        }
        do {
            return HTTPReply(status: 200, contentType: "text/plain; version=0.0.4", body: try PrometheusText.encode(families))
        } catch {
            return .json(500, ["error": "\(error)"])
        }
    }

    func startRun(mode: SyncMode, job: String?, authorization: String?) -> HTTPReply {
        guard let token = process.options.token else {
            return .json(403, ["error": "POST endpoints are off: set SFPG_SERVE_TOKEN to turn them on"])
        }
        guard let authorization, authorization.lowercased().hasPrefix("bearer "),
            Self.constantTimeEquals(String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces), token)
        else { return .json(401, ["error": "Authorization: Bearer <SFPG_SERVE_TOKEN> required"]) }
        let jobs = process.environment.jobs.filter { job == nil || $0.name == job }
        if jobs.isEmpty { return .json(404, ["error": "no job named '\(job ?? "")'"]) }
        switch process.runs.start(jobs, .sync(mode), trigger: "http") {
        case .started(let id, let names): return .json(202, Started(runId: id, jobs: names, mode: mode.rawValue))
        case .busy(let names):
            return .json(409, ["error": "a run holds the lock of \(names.joined(separator: ", ")); try again later"])
        case .refused(let reason): return .json(503, ["error": reason])
        }
    }

    struct Started: Encodable {
        var runId: String
        var jobs: [String]
        var mode: String
    }

    /// Compares every byte whatever the first difference, so the time taken does not tell how much of a guess
    /// was right.
    static func constantTimeEquals(_ presented: String, _ secret: String) -> Bool {
        let a = Array(presented.utf8), b = Array(secret.utf8)
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
