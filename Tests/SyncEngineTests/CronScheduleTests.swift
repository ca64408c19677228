import Foundation
import SyncEngine
import Testing

@Suite("Cron schedules (job files' schedule: and full_schedule:)")
struct CronScheduleTests {
    /// A UTC instant from "yyyy-MM-dd HH:mm".
    static func at(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: text)!
    }

    static func next(_ cron: String, after text: String) throws -> String? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm EEE"
        return try CronSchedule(parsing: cron).next(after: at(text)).map(formatter.string(from:))
    }

    @Test("next firing time", arguments: [
        ("*/10 * * * *", "2026-12-07 03:07", "2026-12-07 03:10 Mon"),
        ("*/10 * * * *", "2026-12-07 03:10", "2026-12-07 03:20 Mon"),  // strictly after
        ("0 3 * * *", "2026-12-07 03:00", "2026-12-08 03:00 Tue"),
        ("15,45 8-9 * * *", "2026-12-07 08:50", "2026-12-07 09:15 Mon"),
        ("0 0 * * mon-fri", "2026-12-05 12:00", "2026-12-07 00:00 Mon"),  // Saturday → Monday
        ("0 0 * * 0", "2026-12-07 00:00", "2026-12-13 00:00 Sun"),
        ("0 0 * * 7", "2026-12-07 00:00", "2026-12-13 00:00 Sun"),  // 7 is Sunday too
        ("0 12 29 feb *", "2026-03-01 00:00", "2028-02-29 12:00 Tue"),  // leap day
        ("0 0 1 * mon", "2026-12-02 00:00", "2026-12-07 00:00 Mon"),  // both day fields: either matches
        ("5/20 * * * *", "2026-12-07 03:26", "2026-12-07 03:45 Mon"),  // A/S runs to the field's end
        ("0-10/5 1 * JAN *", "2026-12-07 00:00", "2027-01-01 01:00 Fri"),
        ("59 23 31 12 *", "2026-12-31 23:58", "2026-12-31 23:59 Thu"),
    ])
    func next(_ cron: String, _ after: String, _ expected: String) throws {
        #expect(try Self.next(cron, after: after) == expected)
    }

    @Test("a schedule that can never fire has no next time")
    func never() throws {
        #expect(try CronSchedule(parsing: "0 0 31 2 *").next(after: Self.at("2026-01-01 00:00")) == nil)
    }

    @Test("malformed expressions are refused, naming the part", arguments: [
        "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *",
        "5-1 * * * *", "1,,2 * * * *", "a * * * *", "* * * foo *", "1-2-3 * * * *", "*/5/2 * * * *", "",
    ])
    func refused(_ cron: String) {
        #expect(throws: CronSchedule.Invalid.self) { try CronSchedule(parsing: cron) }
    }

    @Test("job files take schedule: and full_schedule:, and name the line of a bad one")
    func jobFile() throws {
        let base = "object: Contact\ntable: public.c\nfields:\n  Id: id\n  SystemModstamp: m\n  IsDeleted: d\n"
        let job = try JobDefinition.parse(
            yaml: base + "schedule: \"*/10 * * * *\"\nfull_schedule: \"0 3 * * *\"\n", name: "c", file: "c.yaml")
        #expect(job.schedule == (try CronSchedule(parsing: "*/10 * * * *")))
        #expect(job.fullSchedule?.matches(Self.at("2026-12-07 03:00")) == true)
        #expect(job.fullSchedule?.matches(Self.at("2026-12-07 03:01")) == false)
        let error = #expect(throws: JobDefinitionError.self) {
            try JobDefinition.parse(yaml: base + "schedule: \"*/10 * *\"\n", name: "c", file: "c.yaml")
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("c.yaml:7"), "\(String(describing: error))")
    }
}
