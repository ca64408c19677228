import Foundation
import PostgresLoader

/// A calendar window of a job's watermark field, in UTC: all time, a year, a month or a day, [start, end).
///
/// Salesforce's date functions (`CALENDAR_YEAR`, `CALENDAR_MONTH`, `DAY_ONLY`) group a datetime in UTC unless the
/// query converts it (`convertTimezone()`), and the table's side truncates the modstamp in UTC too, so one window
/// holds the same records on both sides.
struct CountWindow: Hashable, CustomStringConvertible {
    enum Level: Int, Comparable {
        case all, year, month, day
        static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }

    var level: Level
    var start: Date
    var end: Date

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Before and after any modstamp a table can hold.
    static let all = CountWindow(
        level: .all, start: Date(timeIntervalSince1970: -2_208_988_800), end: Date(timeIntervalSince1970: 32_503_680_000))

    /// The window of `level` that starts on `day` (`YYYY-MM-DD`, a bucket as both sides name it).
    init?(level: Level, day: String) {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, level != .all,
            let start = Self.calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
        else { return nil }
        self.init(level: level, start: start)
    }

    init(level: Level, start: Date) {
        self.level = level
        self.start = start
        let unit: Calendar.Component = level == .year ? .year : level == .month ? .month : .day
        end = Self.calendar.date(byAdding: unit, value: 1, to: start) ?? start
    }

    init(level: Level, start: Date, end: Date) {
        self.level = level
        self.start = start
        self.end = end
    }

    /// The level the window's counts are grouped by: its children's (a day counts itself).
    var childLevel: Level { Level(rawValue: min(level.rawValue + 1, Level.day.rawValue)) ?? .day }

    /// `date_trunc`'s unit for the children.
    var childUnit: DriftCheck.Unit { childLevel == .year ? .year : childLevel == .month ? .month : .day }

    /// The child windows, for narrowing when the window's grouped count timed out; years from `earliest` (the
    /// earliest modstamp known) to now for all time, none for a day.
    func children(earliest: Date?) -> [CountWindow] {
        switch level {
        case .day: return []
        case .all:
            let first = Self.calendar.component(.year, from: earliest ?? Date())
            let last = Self.calendar.component(.year, from: Date())
            return (first...max(first, last)).compactMap { CountWindow(level: .year, day: "\($0)-01-01") }
        case .year, .month:
            var windows: [CountWindow] = []
            var next = CountWindow(level: childLevel, start: start)
            while next.start < end {
                windows.append(next)
                next = CountWindow(level: childLevel, start: next.end)
            }
            return windows
        }
    }

    /// The SOQL condition of the window on `field`; nil for all time.
    func condition(_ field: String) -> String? {
        level == .all ? nil : "\(field) >= \(Self.literal(start)) AND \(field) < \(Self.literal(end))"
    }

    /// The aggregate query that counts the window's children: grouped by `CALENDAR_YEAR` (all time),
    /// `CALENDAR_MONTH` (a year), `DAY_ONLY` (a month), or the window's own `COUNT(Id)` (a day).
    func countSOQL(object: String, field: String, filter: String?) -> String {
        let group: String? = switch level {
        case .all: "CALENDAR_YEAR(\(field))"
        case .year: "CALENDAR_MONTH(\(field))"
        case .month: "DAY_ONLY(\(field))"
        case .day: nil
        }
        let conditions = [filter.map { "(\($0))" }, condition(field)].compactMap { $0 }
        return "SELECT \(group.map { "\($0) b, " } ?? "")COUNT(Id) c FROM \(object)"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            + (group.map { " GROUP BY \($0)" } ?? "")
    }

    /// A child's bucket (`YYYY-MM-DD`) from the aggregate row's `b`: a year, a month of this year, or a day.
    func bucket(_ value: String?) -> String? {
        let year = Self.calendar.component(.year, from: start)
        switch level {
        case .all: return value.flatMap { Int($0) }.map { String(format: "%04d-01-01", $0) }
        case .year: return value.flatMap { Int($0) }.map { String(format: "%04d-%02d-01", year, $0) }
        case .month: return value.map { String($0.prefix(10)) }
        case .day: return Self.day(start)
        }
    }

    static func day(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// A SOQL datetime literal (and a PostgreSQL timestamptz): whole seconds, UTC.
    static func literal(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    var description: String { level == .all ? "all time" : "[\(Self.literal(start)), \(Self.literal(end)))" }
}
