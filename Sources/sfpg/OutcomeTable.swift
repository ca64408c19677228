import Foundation
import Logging
import SyncEngine

/// The run's summary: one line per job and a closing count of failures. Text on stdout for people; with
/// `--log-format json`, JSON events on the log stream instead (counts as numbers, the text line under `summary`),
/// so `sfpg run --log-format json >>log 2>&1` writes nothing but JSON lines.
enum OutcomeTable {
    static func print(_ outcomes: [JobOutcome], json: Bool) {
        for outcome in outcomes {
            let line = "\(outcome.job): " + text(outcome)
            guard json else { say(line); continue }
            var fields = fields(outcome)
            fields["summary"] = line
            JSONLogHandler.write(
                level: outcome.status == .success ? .notice : .error, label: "sfpg", message: "job summary", fields: fields)
        }
        guard let closing = JobOutcome.failureSummary(outcomes) else { return }
        guard json else { return say(closing) }
        JSONLogHandler.write(level: .error, label: "sfpg", message: "run summary", fields: [
            "summary": closing, "jobs.total": outcomes.count, "jobs.failed": outcomes.filter { $0.status != .success }.count,
            "sync.exit_code": Int(ExitStatus.combined(outcomes.map(\.status)).rawValue),
        ])
    }

    /// What a job's line says after its name.
    static func text(_ outcome: JobOutcome) -> String {
        guard let summary = outcome.summary else {
            if outcome.status == .success { return "ok: \(outcome.note ?? "nothing to do")" }
            // A configuration refusal changed nothing and will not change by retrying: it did not fail, it refused.
            let word = outcome.status == .cancelled ? "cancelled (signal)" : outcome.status == .configuration ? "refused" : "FAILED"
            return "\(word) (exit \(outcome.status.rawValue)): \(outcome.error ?? "")"
        }
        let counts = summary.counts
        // A shard's commit is part of a logical run: "ok" only once its last shard has committed.
        let what = outcome.shard.map { "shard \($0) committed; run \(summary.completedShardRun ? "complete" : "pending")" }
            ?? "\(outcome.plan?.mode.rawValue ?? "") sync ok"
        var line = "\(what) in \(String(format: "%.1f", outcome.seconds)) s — \(counts.staged) read, "
            + "\(counts.inserted) inserted, \(counts.updated) updated, \(counts.unchanged) unchanged, \(counts.deleted) deleted"
        if outcome.backfilled > 0 { line += ", \(outcome.backfilled) backfilled" }
        if outcome.refreshed > 0 { line += ", \(outcome.refreshed) refreshed" }
        line += "; watermark \(summary.watermarkAfter ?? "none")"
        if outcome.status != .success { line += "; then FAILED (exit \(outcome.status.rawValue)): \(outcome.error ?? "")" }
        return line
    }

    /// The job's summary as JSON log fields: numbers stay numbers.
    static func fields(_ outcome: JobOutcome) -> [String: Any] {
        var fields: [String: Any] = [
            "job.name": outcome.job, "sync.exit_code": Int(outcome.status.rawValue), "sync.seconds": outcome.seconds,
            "sync.status": outcome.status == .success
                ? (outcome.shard != nil && outcome.summary?.completedShardRun == false ? "pending" : "ok")
                : (outcome.reason ?? ExitReason(outcome.status)).rawValue,
        ]
        if let mode = outcome.plan?.mode { fields["sync.mode"] = mode.rawValue }
        if let shard = outcome.shard { fields["sync.shard"] = shard.description }
        if let error = outcome.error { fields["error"] = error }
        if let summary = outcome.summary {
            let counts = summary.counts
            for (key, value) in [("staged", counts.staged), ("inserted", counts.inserted), ("updated", counts.updated),
                                 ("unchanged", counts.unchanged), ("deleted", counts.deleted),
                                 ("backfilled", outcome.backfilled), ("refreshed", outcome.refreshed)] {
                fields["sync." + key] = value
            }
            if let watermark = summary.watermarkAfter { fields["sync.watermark"] = watermark }
        }
        return fields
    }
}
