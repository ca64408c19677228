/// The one grammar for durations in sfpg: environment variables, flags and job files all read it.
///
/// A number (`90`, `2.5`) followed by an optional unit: `ms`, `s`, `m` or `min`, `h`, `d`; case and spaces between
/// number and unit do not matter. A plain number means seconds, which every setting that took seconds before
/// still takes. Each place bounds the result itself (a request timeout cannot be 0; an overlap can).
public enum DurationSyntax {
    /// The accepted forms, for error messages.
    public static let forms = "a duration such as 90s, 5m, 5min, 2h, 1d, 1500ms or plain seconds (300)"

    /// Longest first, so `min` and `ms` are not read as `m` with a stray letter.
    static let units: [(suffix: String, milliseconds: Double)] = [
        ("min", 60_000), ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    /// Ten years: beyond any sane overlap, retention or timeout, and far below where milliseconds overflow.
    public static let longest: Duration = .seconds(10 * 366 * 86_400)

    /// The duration `text` spells, or `nil` when it is not in the grammar (negative, not finite, over ``longest``).
    public static func duration(_ text: String) -> Duration? {
        var number = Substring(text.trimmingWhitespace().lowercased())
        var scale = 1000.0
        if let unit = units.first(where: { number.hasSuffix($0.suffix) }) {
            number = number.dropLast(unit.suffix.count)
            scale = unit.milliseconds
        }
        let digits = String(number).trimmingWhitespace()
        // Double("nan"), Double("inf"), "1e3" and "0x10" parse; a duration is plain decimal digits.
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(digits), value * scale <= Double(longest.components.seconds) * 1000
        else { return nil }
        return .milliseconds(Int64((value * scale).rounded()))
    }

    /// Parses the value of `setting`, which must lie in `range`. With `unitRequired`, a bare number other than 0 is
    /// refused: for a setting whose old reader (PostgreSQL, libpq) took a bare number as milliseconds, guessing
    /// either way would silently change a working configuration by a factor of 1000.
    /// - Throws: ``SettingError`` naming the setting, the value and the accepted forms.
    public static func parse(
        _ text: String, setting: String, in range: ClosedRange<Duration> = .zero...longest, unitRequired: Bool = false
    ) throws(SettingError) -> Duration {
        guard let duration = duration(text) else {
            throw SettingError(setting: setting, value: text, expected: forms)
        }
        if unitRequired, duration != .zero, text.trimmingWhitespace().last.map({ $0.isNumber || $0 == "." }) ?? true {
            throw SettingError(
                setting: setting, value: text,
                expected: "a duration with a unit, such as 90s, 5min or 1500ms (a bare number is ambiguous here)")
        }
        guard range.contains(duration) else {
            throw SettingError(setting: setting, value: text, expected: "\(bounds(range)) (\(forms))")
        }
        return duration
    }

    /// Whole seconds, for settings stored in seconds (job files).
    /// - Throws: ``SettingError`` for a value in the grammar that is not a whole number of seconds (`1500ms`).
    public static func seconds(_ text: String, setting: String) throws(SettingError) -> Int {
        let duration = try parse(text, setting: setting)
        guard duration.components.attoseconds == 0 else {
            throw SettingError(setting: setting, value: text, expected: "a whole number of seconds (\(forms))")
        }
        return Int(duration.components.seconds)
    }

    /// The shortest exact spelling in units PostgreSQL also reads (`5min`, `30s`, `1500ms`, `0`), for messages and
    /// for `set_config`.
    public static func format(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds == 0 { return "0" }
        for (suffix, size) in [("d", 86_400_000), ("h", 3_600_000), ("min", 60_000), ("s", 1000)] as [(String, Int64)]
        where milliseconds % size == 0 {
            return "\(milliseconds / size)\(suffix)"
        }
        return "\(milliseconds)ms"
    }

    static func bounds(_ range: ClosedRange<Duration>) -> String {
        if range.upperBound == longest {
            return range.lowerBound == .zero ? "a duration" : "a duration of at least \(format(range.lowerBound))"
        }
        return "a duration from \(format(range.lowerBound)) to \(format(range.upperBound))"
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line breaks (no Foundation in this module).
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
