import ArgumentParser
import Dispatch
import Foundation
import Serve
import SettingsSyntax
import SyncEngine

extension Sfpg {
    struct ServeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Run as a service: HTTP endpoints, the job files' schedules, one active replica per database.",
            discussion: """
                GET /health, /ready, /sync/stats (what sfpg status prints as JSON), /metrics; POST /sync/full[/JOB] and \
                /sync/incremental[/JOB] with Authorization: Bearer $SFPG_SERVE_TOKEN (off without it). \
                A second sfpg serve on the same database waits as a standby and takes over when the first ends.

                Examples:
                  sfpg serve                                  # 127.0.0.1:8080, jobs from $SFPG_JOBS_DIR or ./jobs
                  SFPG_SERVE_TOKEN=… sfpg serve --bind 0.0.0.0 --port 8080 --grace 25s
                """
        )

        @Option(help: "Address to listen on (0.0.0.0 in a container).")
        var bind = "127.0.0.1"

        @Option(help: "Port to listen on (0: one the kernel picks, printed in the log).")
        var port = 8080

        @Option(help: "How long a SIGTERM may take: running batches get 40% of it to finish, then are cancelled.")
        var grace = "25s"

        @Option(help: "\(JobsDirectory.help)")
        var jobsDirectory = JobsDirectory.defaultPath

        @Option(help: "Result pages downloaded at once by each batch run.")
        var downloadConnections = 4

        @OptionGroup var global: GlobalOptions

        func run() throws {
            let logger = global.makeLogger()
            do {
                let grace = try DurationSyntax.parse(self.grace, setting: "--grace", in: .seconds(1)...(.seconds(3600)))
                let jobs = try JobSelection.load(directory: jobsDirectory, names: [])
                var options = SyncOptions(downloadConnections: downloadConnections)
                options.apiBudget = try Settings.process.apiBudget(flag: nil)
                options.resumeMinRecords = try Settings.process.resumeMinRecords()
                let environment = ServeEnvironment(
                    jobs: jobs, conninfo: global.conninfo, postgres: try Settings.process.postgres(),
                    salesforce: try Settings.process.salesforce(), options: options,
                    runMetrics: { outcomes, store in
                        JobRunMetrics.families(
                            JobRunMetrics.runs(outcomes, jobs: jobs, store: store) { outcome, record in
                                outcome.runId != nil && record?.latestRunId == outcome.runId
                            }, now: Date().timeIntervalSince1970)
                    })
                let streamed = jobs.filter(\.stream)
                var services: [any ServeService] = []
                if !streamed.isEmpty {
                    // Only a job that streams needs the Pub/Sub endpoint (and its settings to be valid).
                    let endpoint = try Settings.process.pubSubEndpoint()
                    services = streamed.map { StreamService(job: $0, environment: environment, endpoint: endpoint) }
                }
                let process = ServeProcess(
                    environment: environment,
                    options: ServeOptions(host: bind, port: port, token: Settings.process.serveToken, grace: grace),
                    services: services, logger: logger)
                let signals = ServeSignals(process)
                try withExtendedLifetime(signals) { try process.run() }
            } catch {
                throw failureExit(error)
            }
        }
    }
}

/// SIGTERM/SIGINT ask `sfpg serve` to stop within its grace period; a second one exits at once (130).
final class ServeSignals {
    private let sources: [any DispatchSourceSignal]

    init(_ process: ServeProcess) {
        sources = [SIGINT, SIGTERM].map { signo in
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler {
                if process.isStopRequested { Foundation.exit(130) }
                Console.write(.notice, "sfpg serve: stopping (signal received); again to exit at once")
                process.requestStop()
            }
            source.resume()
            return source
        }
    }
}
