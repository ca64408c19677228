import Foundation
import SyncEngine

/// A short human summary of a run, on stdout (logs go to stderr).
enum OutcomeTable {
    static func print(_ outcomes: [JobOutcome]) {
        for outcome in outcomes {
            var line = "\(outcome.job): "
            if let summary = outcome.summary {
                let counts = summary.counts
                line += "\(outcome.plan?.mode.rawValue ?? "") sync ok in \(String(format: "%.1f", outcome.seconds)) s — "
                line += "\(counts.staged) read, \(counts.inserted) inserted, \(counts.updated) updated, "
                line += "\(counts.unchanged) unchanged, \(counts.deleted) deleted; watermark \(summary.watermarkAfter ?? "none")"
            } else if outcome.status == .success {
                line += "ok: \(outcome.note ?? "nothing to do")"
            } else {
                // A configuration refusal changed nothing and will not change by retrying: it did not fail, it refused.
                let word = outcome.status == .cancelled ? "cancelled" : outcome.status == .configuration ? "refused" : "FAILED"
                line += "\(word) (exit \(outcome.status.rawValue)): \(outcome.error ?? "")"
            }
            say(line)
        }
        if let closing = JobOutcome.failureSummary(outcomes) { say(closing) }
    }
}
