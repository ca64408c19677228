import Foundation
import SyncEngine

/// Which runs the job files' `schedule:`, `full_schedule:` and `verify:` call for, once per UTC minute. A replica
/// that becomes active during a matching minute runs it (it may be the minute its predecessor died in).
struct Scheduler {
    let jobs: [JobDefinition]
    private var lastMinute: Int?

    init(jobs: [JobDefinition]) { self.jobs = jobs }

    mutating func activated(at date: Date) { lastMinute = nil }

    /// `date` if its minute was not looked at yet, else nil.
    mutating func newMinute(_ date: Date) -> Date? {
        let minute = Int(date.timeIntervalSince1970 / 60)
        guard minute != lastMinute else { return nil }
        lastMinute = minute
        return date
    }

    /// The runs due in `date`'s minute: a full run where both schedules match; a verify of the jobs in `verifying`
    /// that have no sync due (the next minute's look finds it still due).
    func runs(at date: Date, verifying: Set<String>) -> [(JobDefinition, BatchWork)] {
        jobs.compactMap { job in
            if job.fullSchedule?.matches(date) == true { return (job, .sync(.full)) }
            if job.schedule?.matches(date) == true { return (job, .sync(.incremental)) }
            return verifying.contains(job.name) ? (job, .verify) : nil
        }
    }
}
