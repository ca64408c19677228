import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// Options of one `sfpg verify`.
public struct VerifyOptions: Sendable {
    /// Re-read missing and stale records through the run pipeline and sweep extra keys (`--repair`).
    public var repair: Bool
    public var lock: LockPolicy
    /// A differing window with at most this many records is listed whole rather than counted per child.
    public var compareBelow: Int

    public init(repair: Bool = false, lock: LockPolicy = .failFast, compareBelow: Int = 5_000) {
        self.repair = repair
        self.lock = lock
        self.compareBelow = compareBelow
    }
}

/// What one job's verify found (and repaired).
public struct VerifyOutcome: Sendable {
    public var job: String
    public var record = VerifyRecord()
    /// `.drift` when drift was found and not repaired.
    public var status: ExitStatus = .success
    public var reason: ExitReason?
    public var error: String?
    public var seconds: Double = 0
    /// Salesforce's estimate of the object's records (`/limits/recordCount`): the cheap first alarm, never proof.
    public var estimate: Int?
}

/// What the comparison found beyond counts: the windows listed and the keys behind the drift.
struct DriftFindings {
    var windows: [CountWindow] = []
    /// Live in the table, gone from Salesforce (or hidden from the integration user).
    var extra: [String] = []
    /// Listed by Salesforce outside the windows (their modstamp moved): re-read by key.
    var moved: [String] = []
}

extension SyncRunner {
    /// Verifies each job in turn; a failing job does not stop the others, a cancelled one does.
    public func verify(_ jobs: [JobDefinition], options: VerifyOptions) -> [VerifyOutcome] {
        jobs.map { job in
            guard !cancellation.isCancelled else {
                return VerifyOutcome(job: job.name, status: .cancelled, reason: .cancelled, error: "cancelled before it started")
            }
            return verify(job, options: options)
        }
    }

    /// Counts per window, lists the windows that differ, compares, and with `repair` merges what was found through
    /// the run pipeline; writes the verify's `sfpg.sync_logs` row whatever happens. Never throws.
    public func verify(_ job: JobDefinition, options: VerifyOptions) -> VerifyOutcome {
        let started = ContinuousClock.now
        var logger = self.logger
        logger[metadataKey: "job.name"] = "\(job.name)"
        logger[metadataKey: "sf.object"] = "\(job.object)"
        var outcome = VerifyOutcome(job: job.name)
        do {
            let job = try fieldCheck.check(job)
            try store.withJobLock(job.name, table: job.table, policy: options.lock) { state in
                let runOptions = try OrgCheck(client: client, logger: logger).check(job, state: state, options: SyncOptions())
                try verifyLogged(job, state: state, options: options, runOptions: runOptions, outcome: &outcome, logger: logger)
            }
            if outcome.record.drift > 0 && !options.repair {
                outcome.status = .drift
                outcome.reason = .drift
            }
        } catch {
            let reason = cancellation.isCancelled ? ExitReason.cancelled : ExitReason(for: error)
            (outcome.reason, outcome.status, outcome.error) = (reason, reason.status, "\(error)")
            logger.error("verify failed", metadata: ["error": "\(error)"])
        }
        outcome.seconds = (ContinuousClock.now - started).inSeconds
        return outcome
    }

    private func verifyLogged(
        _ job: JobDefinition, state: JobState, options: VerifyOptions, runOptions: SyncOptions, outcome: inout VerifyOutcome,
        logger: Logger
    ) throws {
        let callsBefore = client.apiCallCount
        let startedAt = try store.clock()
        let check = try DriftCheck(store: store, jobName: job.name, mapping: job.loadMapping)
        defer { check.dropExtras() }
        do {
            var findings = try findDrift(job, check: check, options: options, outcome: &outcome, logger: logger)
            // Counts that cancel hide drift: a day where one record is missing and another's stale modstamp moved
            // in counts equal until the stale one is repaired back to its own day. So a repair counts again, and
            // repairs what that shows, until the counts agree or a pass repairs nothing.
            // Extras a job does not sweep stay and are found again: counted once.
            var (pass, extras, drift) = (0, Set(findings.extra), outcome.record.drift)
            while options.repair, drift > 0, pass < Self.repairPasses {
                pass += 1
                let repaired = try repair(job, findings: findings, check: check, state: state, options: runOptions, logger: logger)
                outcome.record.repaired += repaired
                guard repaired > 0, pass < Self.repairPasses else { break }
                var again = VerifyOutcome(job: job.name)
                findings = try findDrift(job, check: check, options: options, outcome: &again, logger: logger)
                again.record.extra = findings.extra.filter { !extras.contains($0) }.count
                extras.formUnion(findings.extra)
                outcome.record.add(again.record)
                drift = again.record.drift
                if drift > 0 { logger.info("counting again after a repair found more drift", metadata: ["verify.pass": "\(pass + 1)"]) }
            }
        } catch {
            outcome.record.status = cancellation.isCancelled ? .cancelled : .failed
            outcome.record.errorMessage = "\(error)"
            outcome.record.apiCalls = client.apiCallCount - callsBefore
            _ = try? store.appendVerify(outcome.record, jobName: job.name, objectName: job.object, startedAt: startedAt)
            throw error
        }
        outcome.record.apiCalls = client.apiCallCount - callsBefore
        try store.appendVerify(outcome.record, jobName: job.name, objectName: job.object, startedAt: startedAt)
        let record = outcome.record
        logger.notice(
            "verify finished",
            metadata: [
                "verify.windows": "\(record.windowsChecked)", "verify.compared": "\(record.compared)",
                "verify.missing": "\(record.missing)", "verify.stale": "\(record.stale)", "verify.extra": "\(record.extra)",
                "verify.repaired": "\(record.repaired)", "sync.api_calls": "\(record.apiCalls)",
            ])
    }

    /// The counts, then the listing of the windows whose counts differ, then Salesforce's word on each key the
    /// table holds in those windows and the listing lacks.
    func findDrift(
        _ job: JobDefinition, check: DriftCheck, options: VerifyOptions, outcome: inout VerifyOutcome, logger: Logger
    ) throws -> DriftFindings {
        do {
            outcome.estimate = try client.recordCounts(of: [job.object])[job.object]
            logger.info("salesforce's estimate of the object's records", metadata: ["verify.estimate": "\(outcome.estimate ?? -1)"])
        } catch {
            logger.info("no record count estimate for the object", metadata: ["error": "\(error)"])
        }
        let survey = DriftSurvey(client: client, job: job, check: check, logger: logger, compareBelow: options.compareBelow)
        try survey.run()
        outcome.record.windowsChecked = survey.windowsChecked
        var findings = DriftFindings(windows: Self.merged(survey.differing))
        guard !findings.windows.isEmpty else { return findings }
        let listed = try list(findings.windows, job: job, check: check, logger: logger)
        (findings.extra, findings.moved) = try confirm(listed.unlisted, job: job)
        outcome.record.compared = listed.compared
        outcome.record.missing = listed.missing
        outcome.record.stale = listed.stale + findings.moved.count
        outcome.record.extra = findings.extra.count
        return findings
    }

    /// How many times `--repair` repairs and counts again at most (see ``verifyLogged``).
    static let repairPasses = 3

    /// Adjacent windows as one range, so a run of differing days is one condition.
    static func merged(_ windows: [CountWindow]) -> [CountWindow] {
        var ranges: [CountWindow] = []
        for window in windows.sorted(by: { $0.start < $1.start }) {
            if let last = ranges.last, last.end >= window.start {
                ranges[ranges.count - 1] = CountWindow(level: .day, start: last.start, end: max(last.end, window.end))
            } else {
                ranges.append(window)
            }
        }
        return ranges
    }

    /// SOQL conditions for `windows`, at most `size` windows each (a SOQL statement is capped at 100,000 characters).
    static func conditions(_ windows: [CountWindow], field: String, size: Int = 100) -> [String] {
        stride(from: 0, to: windows.count, by: size).map { from in
            windows[from..<min(from + size, windows.count)].compactMap { $0.condition(field).map { "(\($0))" } }
                .joined(separator: " OR ")
        }
    }
}
