import ArgumentParser
import Foundation
import Logging
import Metrics
import PlainHTTP
import PostgresLoader
import Synchronization
import SyncEngine

/// `sfpg run`'s metrics options.
struct MetricsOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Push each job's metrics to this Prometheus Pushgateway when the run ends, success or failure. Default: $SFPG_PUSHGATEWAY_URL.",
        discussion: "One group per job: <URL>/metrics/job/sfpg/sfpg_job/<job> (a shard of --shard I/N: .../shard/<I>). http:// is allowed.",
        valueName: "url"))
    var metricsPushgateway: String?

    @Option(help: ArgumentHelp(
        "Write the same metrics to this file in node-exporter's textfile format (replaced atomically). Default: $SFPG_METRICS_FILE.",
        valueName: "path"))
    var metricsFile: String?

    var pushgateway: String? { metricsPushgateway ?? Settings.process.pushgatewayURL }
    var file: String? { metricsFile ?? Settings.process.metricsFile }
    var enabled: Bool { pushgateway != nil || file != nil }
}

/// What one job's run left behind, for its metrics.
struct JobRunMetrics {
    var job: String
    var object: String
    var status: ExitStatus
    /// Why the run failed, by the exit-code table; nil for a success.
    var reason: ExitReason? = nil
    var seconds: Double
    var counts: MergeCounts?
    /// Rows the column passes after the commit changed (a backfill of new fields, a formula refresh).
    var backfilled = 0
    var refreshed = 0
    /// From submission to `JobComplete` of the run's Bulk query; nil if it never completed.
    var bulkJobSeconds: Double? = nil
    /// Read from the database after the run; nil when it could not be read (then a failure must not replace the
    /// job's group, or it would erase the last success).
    var record: LastRuns?
    /// Whether `record`'s latest run-log row is this run's (it did not fail before writing one).
    var ownRow: Bool
    /// The job's latest `sfpg verify`, for `sfpg_drift_records`.
    var verify: VerifyRecord? = nil

    /// `sfpg_drift_records{kind}`: what the job's latest verify found.
    static func drift(_ runs: [JobRunMetrics]) -> MetricFamily {
        MetricFamily(
            "sfpg_drift_records", help: "Records the job's latest sfpg verify found missing, stale or extra in its table.",
            samples: runs.flatMap { run in
                run.verify.map { found in
                    [("missing", found.missing), ("stale", found.stale), ("extra", found.extra)].map { kind, count in
                        MetricFamily.Sample(run.labels + [("kind", kind)], Double(count))
                    }
                } ?? []
            })
    }

    /// The metric families of some jobs' runs, each family's samples together (one HELP/TYPE per family).
    static func families(_ runs: [JobRunMetrics], now: Double) -> [MetricFamily] {
        func family(_ name: String, _ help: String, _ value: (JobRunMetrics) -> Double?) -> MetricFamily {
            MetricFamily(name, help: help, samples: runs.compactMap { run in
                value(run).map { MetricFamily.Sample(run.labels, $0) }
            })
        }
        let rows = MetricFamily(
            "sfpg_rows", help: "Rows the job's last run changed in its table, by operation (0 for a run that failed).",
            samples: runs.flatMap { run in
                [("inserted", run.counts?.inserted), ("updated", run.counts?.updated), ("deleted", run.counts?.deleted),
                 ("unchanged", run.counts?.unchanged), ("backfilled", run.backfilled),
                 ("refreshed", run.refreshed)].map { operation, count in
                    MetricFamily.Sample(run.labels + [("operation", operation)], Double(count ?? 0))
                }
            })
        return [
            family("sfpg_last_run_timestamp_seconds", "When the job's last run ended (Unix time).") { _ in now },
            family("sfpg_last_success_timestamp_seconds", "When the job last ran successfully (Unix time, from sfpg.sync_logs).") {
                $0.status == .success ? ($0.record?.lastSuccessAt ?? now) : $0.record?.lastSuccessAt
            },
            family("sfpg_run_status", "1 if the job's last run succeeded, else 0.") { $0.status == .success ? 1 : 0 },
            family("sfpg_run_exit_code", "Exit status of the job's last run (0 success, 1 failed, 2 configuration, 130 cancelled, …).") {
                Double($0.status.rawValue)
            },
            MetricFamily(
                "sfpg_run_failed", help: "1 for a job whose last run failed, labelled with the exit-code table's reason.",
                samples: runs.compactMap { run in
                    run.reason.map {
                        MetricFamily.Sample(run.labels + [("reason", $0.rawValue.replacingOccurrences(of: " ", with: "_"))], 1)
                    }
                }),
            family("sfpg_run_duration_seconds", "Wall time of the job's last run.") { $0.seconds },
            rows,
            family("sfpg_bulk_job_seconds", "Seconds from submitting the last run's Bulk query (or reusing one) to JobComplete.") {
                $0.bulkJobSeconds
            },
            family("sfpg_watermark_timestamp_seconds", "The job's watermark: the largest SystemModstamp loaded (Unix time).") {
                $0.record?.watermark
            },
            family("sfpg_salesforce_api_calls", "Salesforce API calls the job's last run used.") {
                $0.ownRow ? $0.record?.latestAPICalls.map(Double.init) : nil
            },
            family("sfpg_result_bytes", "Uncompressed CSV bytes of the result pages the job's last run downloaded.") {
                $0.ownRow ? $0.record?.latestResultBytes.map(Double.init) : nil
            },
            family("sfpg_records_expected", "Records Salesforce said the last run's Bulk job produced (numberRecordsProcessed).") {
                $0.ownRow ? $0.record?.latestExpected.map(Double.init) : nil
            },
            family("sfpg_records_downloaded", "Records of all result pages the last run downloaded.") {
                $0.ownRow ? $0.record?.latestDownloaded.map(Double.init) : nil
            },
            family("sfpg_records_loaded", "Rows the last run staged with COPY (records_processed).") {
                $0.ownRow ? $0.record?.latestStaged.map(Double.init) : nil
            },
            drift(runs),
            MetricFamily(
                "sfpg_build_info", help: "The sfpg build that ran: version and commit.",
                samples: [.init([("version", BuildInfo.version), ("commit", BuildInfo.commit)], 1)]),
        ]
    }

    var labels: [(String, String)] { [("sfpg_job", job), ("object", object)] }

    /// One per outcome, with the database's record of the job; `own` tells whether that record's latest run-log
    /// row is the outcome's own.
    static func runs(
        _ outcomes: [JobOutcome], jobs: [JobDefinition], store: SyncStore?, own: (JobOutcome, LastRuns?) -> Bool
    ) -> [JobRunMetrics] {
        let verifies = (try? store?.latestVerifies()) ?? [:]
        return outcomes.map { outcome -> JobRunMetrics in
            let record = try? store?.lastRuns(jobName: outcome.job)
            return JobRunMetrics(
                job: outcome.job, object: jobs.first { $0.name == outcome.job }?.object ?? "", status: outcome.status,
                reason: outcome.status == .success ? nil : outcome.reason ?? ExitReason(outcome.status),
                seconds: outcome.seconds, counts: outcome.summary?.counts, backfilled: outcome.backfilled,
                refreshed: outcome.refreshed, bulkJobSeconds: outcome.bulkJobSeconds, record: record,
                ownRow: own(outcome, record), verify: verifies[outcome.job])
        }
    }
}

/// Publishes a run's metrics to the Pushgateway and/or the textfile. Never fails the run: a problem is logged.
struct RunMetricsPublisher {
    let options: MetricsOptions
    let logger: Logger
    /// The shard this process runs (`--shard I/N`), which gets a Pushgateway group of its own.
    var shard: Int?
    /// Each job's latest run-log id before the run, to recognise the run's own row afterwards.
    private var before: [String: Int64] = [:]

    init(options: MetricsOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    mutating func prepare(_ jobs: [JobDefinition], store: SyncStore) {
        guard options.enabled else { return }
        for job in jobs { before[job.name] = (try? store.lastRuns(jobName: job.name))?.latestRunId ?? 0 }
    }

    /// After `runner.run`: one result per outcome, with the database's record of the job.
    func publish(_ outcomes: [JobOutcome], jobs: [JobDefinition], store: SyncStore?) {
        guard options.enabled else { return }
        publish(JobRunMetrics.runs(outcomes, jobs: jobs, store: store) { [before] outcome, record in
            record?.latestRunId.map { $0 > (before[outcome.job] ?? 0) } ?? false
        })
    }

    /// After `sfpg verify`: `sfpg_drift_records` and the verify's exit code per job, POSTed to the job's group so
    /// the run's metrics there stay (a run's PUT carries the latest drift from the database in turn).
    func publish(_ outcomes: [VerifyOutcome], jobs: [JobDefinition]) {
        guard options.enabled else { return }
        let runs = outcomes.map { outcome in
            JobRunMetrics(
                job: outcome.job, object: jobs.first { $0.name == outcome.job }?.object ?? "", status: outcome.status,
                seconds: outcome.seconds, counts: nil, record: nil, ownRow: false,
                verify: outcome.error == nil ? outcome.record : nil)
        }
        publish(runs, families: { runs in
            [
                JobRunMetrics.drift(runs),
                MetricFamily(
                    "sfpg_verify_exit_code", help: "Exit status of the job's last sfpg verify (0 clean or repaired, 7 drift, …).",
                    samples: runs.map { MetricFamily.Sample($0.labels, Double($0.status.rawValue)) }),
            ]
        }, method: "POST")
    }

    /// The run failed before any job ran (database unreachable, bad credentials): every selected job failed.
    func publishFailure(_ error: any Error, jobs: [JobDefinition], seconds: Double) {
        guard options.enabled, !jobs.isEmpty else { return }
        let reason = ExitReason(for: error)
        publish(jobs.map {
            JobRunMetrics(
                job: $0.name, object: $0.object, status: reason.status, reason: reason, seconds: seconds, counts: nil,
                record: nil, ownRow: false)
        })
    }

    private func publish(
        _ runs: [JobRunMetrics], families: ([JobRunMetrics]) -> [MetricFamily]? = { _ in nil }, method: String? = nil
    ) {
        let now = Date().timeIntervalSince1970
        func encode(_ runs: [JobRunMetrics]) throws -> String {
            try PrometheusText.encode(families(runs) ?? JobRunMetrics.families(runs, now: now))
        }
        if let base = options.pushgateway {
            for run in runs { push(run, base: base, body: { try encode([run]) }, method: method) }
        }
        if let file = options.file {
            do {
                // Merged by job, like the Pushgateway's groups: a run of some jobs keeps the others' series, and a
                // run without the database's record keeps its job's last success.
                let whole = Set(runs.filter { $0.record != nil }.map(\.job))
                try MetricsSink.updateTextfile(file) { previous in
                    try PrometheusText.encode(MetricFamily.merging(
                        PrometheusText.decode(previous ?? ""), families(runs) ?? JobRunMetrics.families(runs, now: now),
                        label: "sfpg_job", replacedWhole: whole))
                }
            } catch {
                logger.warning("could not write the metrics file", metadata: ["metrics.file": "\(file)", "error": "\(error)"])
            }
        }
    }

    /// PUT replaces the job's whole group; it is used only when the database said when the job last succeeded, so
    /// a failure never erases that. Without the database (it was unreachable), POST replaces just the metrics sent.
    private func push(_ run: JobRunMetrics, base: String, body: () throws -> String, method: String?) {
        let url = MetricsSink.pushgatewayURL(base: base, jobName: run.job, shard: shard)
        let method = method ?? (run.record != nil ? "PUT" : "POST")
        do {
            let body = try body()
            let response = try PlainHTTP.request(
                method, url, body: body, contentType: "text/plain; version=0.0.4", timeoutSeconds: 5)
            guard (200..<300).contains(response.status) else {
                throw PlainHTTP.Failure(description: "HTTP \(response.status): \(response.body.prefix(300))")
            }
            logger.info("metrics pushed", metadata: ["job.name": "\(run.job)", "metrics.method": "\(method)"])
        } catch {
            logger.warning(
                "could not push metrics", metadata: ["job.name": "\(run.job)", "metrics.url": "\(PlainHTTP.redacted(url))", "error": "\(error)"])
        }
    }
}
