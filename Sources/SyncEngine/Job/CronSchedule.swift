import Foundation

/// A 5-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC: a job file's
/// `schedule:` and `full_schedule:` for `sfpg serve`.
///
/// Each field is `*` or a comma list of `N`, `A-B`, `*/S`, `A-B/S` or `A/S` (from A to the field's end); months
/// and weekdays may be names (`jan`, `mon`), weekday 0 and 7 are Sunday. As in Vixie cron, when both day fields
/// are restricted a day matching either one matches (`0 3 1 * mon`: the 1st and every Monday).
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    public let description: String
    let minutes: UInt64, hours: UInt64, days: UInt64, months: UInt64, weekdays: UInt64
    let daysRestricted: Bool, weekdaysRestricted: Bool

    struct Field {
        let range: ClosedRange<Int>
        let names: [String]  // names[i] spells range.lowerBound + i
    }
    static let fields = [
        Field(range: 0...59, names: []), Field(range: 0...23, names: []), Field(range: 1...31, names: []),
        Field(range: 1...12, names: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        Field(range: 0...7, names: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ]

    /// A parse failure: what is wrong, for the job file's error message.
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// - Throws: ``Invalid`` naming the field and the accepted forms.
    public init(parsing text: String) throws(Invalid) {
        let parts = text.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw Invalid(description: "'\(text)' has \(parts.count) fields; expected 5: minute hour day-of-month month day-of-week")
        }
        var sets: [UInt64] = []
        for (part, field) in zip(parts, Self.fields) { sets.append(try Self.parse(part, field)) }
        description = text
        (minutes, hours, days, months) = (sets[0], sets[1], sets[2], sets[3])
        weekdays = sets[4] & 0x7f | (sets[4] >> 7 & 1)  // 7 is Sunday, like 0
        daysRestricted = parts[2] != "*"
        weekdaysRestricted = parts[4] != "*"
    }

    static func parse(_ text: String, _ field: Field) throws(Invalid) -> UInt64 {
        var set: UInt64 = 0
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            func invalid() -> Invalid {
                Invalid(description: "'\(item)' is not N, A-B, */S or A-B/S with values \(field.range.lowerBound)-\(field.range.upperBound)"
                    + (field.names.isEmpty ? "" : " or names (\(field.names.prefix(3).joined(separator: ", ")), …)"))
            }
            guard pieces.count <= 2 else { throw invalid() }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed >= 1 else { throw invalid() }
                step = parsed
            }
            var bounds = field.range
            if pieces[0] != "*" {
                let ends = try pieces[0].split(separator: "-", omittingEmptySubsequences: false).map { piece throws(Invalid) in
                    guard let value = Int(piece) ?? field.names.firstIndex(of: String(piece)).map({ $0 + field.range.lowerBound }),
                        field.range.contains(value)
                    else { throw invalid() }
                    return value
                }
                guard ends.count <= 2, ends[0] <= ends[ends.count - 1] else { throw invalid() }
                // `A/S` runs from A to the field's end, as in Vixie cron.
                bounds = ends[0]...(ends.count == 2 ? ends[1] : pieces.count == 2 ? field.range.upperBound : ends[0])
            }
            for value in stride(from: bounds.lowerBound, through: bounds.upperBound, by: step) { set |= 1 << UInt64(value) }
        }
        return set
    }

    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// Whether the schedule fires in the (UTC) minute that `date` falls in.
    public func matches(_ date: Date) -> Bool {
        let c = Self.utc.dateComponents([.minute, .hour], from: date)
        return Self.has(minutes, c.minute) && Self.has(hours, c.hour) && matchesDay(date)
    }

    static func has(_ set: UInt64, _ value: Int?) -> Bool { value.map { set >> UInt64($0) & 1 == 1 } ?? false }

    func matchesDay(_ date: Date) -> Bool {
        let c = Self.utc.dateComponents([.day, .month, .weekday], from: date)
        guard Self.has(months, c.month) else { return false }
        let day = Self.has(days, c.day), weekday = Self.has(weekdays, c.weekday.map { $0 - 1 })
        return daysRestricted && weekdaysRestricted ? day || weekday : day && weekday
    }

    /// The first minute after `date` the schedule fires in, looking at most `days` days ahead (nil past that:
    /// `0 0 31 2 *` never fires; five years cover every leap day).
    public func next(after date: Date, days: Int = 5 * 366) -> Date? {
        let first = (date.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        var day = Self.utc.startOfDay(for: Date(timeIntervalSince1970: first)).timeIntervalSince1970
        for _ in 0...days {
            if matchesDay(Date(timeIntervalSince1970: day)) {
                for hour in 0..<24 where Self.has(hours, hour) {
                    for minute in 0..<60 where Self.has(minutes, minute) {
                        let candidate = day + Double(hour * 3600 + minute * 60)
                        if candidate >= first { return Date(timeIntervalSince1970: candidate) }
                    }
                }
            }
            day += 86_400  // UTC days have no daylight saving shifts
        }
        return nil
    }
}
