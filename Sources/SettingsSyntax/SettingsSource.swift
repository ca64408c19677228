/// Environment-style settings (name → text) read by the one rule every sfpg executable applies.
///
/// The rule: a value is trimmed of surrounding spaces, tabs and line breaks, and a value that is empty after
/// trimming counts as unset. So `SF_REQUEST_TIMEOUT=" 90s\n"` (a Kubernetes secret with a trailing newline) is
/// `90s`, and `SFPG_SPOOL_DIR=` (set to nothing to switch a value off in a shell) means the default. Each executable
/// builds one of these from its process environment in its settings file and passes typed values down; libraries
/// never read the environment themselves.
public struct SettingsSource: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let values: [String: String]

    /// Applies the rule to `environment`.
    public init(_ environment: [String: String]) {
        var values: [String: String] = [:]
        for (name, raw) in environment {
            let value = raw.trimmingWhitespace()
            if !value.isEmpty { values[name] = value }
        }
        self.values = values
    }

    /// The names that are set, never their values: the environment holds tokens and passwords, and a settings
    /// value printed or dumped (a log line, a failed test's output) must not show them.
    public var description: String { "SettingsSource(set: \(values.keys.sorted().joined(separator: ", ")))" }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["set": values.keys.sorted()]) }

    /// The trimmed value of `name`, `nil` when it is unset or blank.
    public subscript(_ name: String) -> String? { values[name] }

    /// The first of `names` that is set.
    public func first(_ names: String...) -> String? {
        names.lazy.compactMap { values[$0] }.first
    }

    /// `name` as a duration in ``DurationSyntax``; `nil` when unset.
    public func duration(
        _ name: String, in range: ClosedRange<Duration> = .zero...DurationSyntax.longest
    ) throws(SettingError) -> Duration? {
        guard let text = values[name] else { return nil }
        return try DurationSyntax.parse(text, setting: name, in: range)
    }

    /// `name` as an on/off switch: `1`, `true`, `yes`, `on` are on; `0`, `false`, `no`, `off` (or unset) are off.
    public func flag(_ name: String) throws(SettingError) -> Bool {
        guard let text = values[name]?.lowercased() else { return false }
        if ["1", "true", "yes", "on"].contains(text) { return true }
        if ["0", "false", "no", "off"].contains(text) { return false }
        throw SettingError(setting: name, value: text, expected: "1/true/yes/on or 0/false/no/off")
    }

    /// `name` as a positive whole number; `nil` when unset.
    public func positiveInteger(_ name: String, unit: String) throws(SettingError) -> Int? {
        guard let text = values[name] else { return nil }
        guard text.count <= 12, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(text), value > 0 else {
            throw SettingError(setting: name, value: text, expected: "a positive whole number of \(unit)")
        }
        return value
    }
}
