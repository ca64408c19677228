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
            } else {
                line += "\(outcome.status == .cancelled ? "cancelled" : "FAILED") (exit \(outcome.status.rawValue)): \(outcome.error ?? "")"
            }
            say(line)
        }
        if let closing = JobOutcome.failureSummary(outcomes) { say(closing) }
    }
}
