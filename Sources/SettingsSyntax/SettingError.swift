/// A setting (an environment variable, a flag, a job-file key) whose value sfpg cannot use.
///
/// `description` names the setting and what it accepts. It quotes the value only when the caller says the value is
/// not secret: a token or password must never reach a log line, cron mail or a run log.
public struct SettingError: Error, CustomStringConvertible, Sendable {
    /// The setting's name as the user wrote it: `SF_REQUEST_TIMEOUT`, `--shard`, `overlap`.
    public var setting: String
    /// The rejected value; `nil` when it is a secret or there is none (a missing setting).
    public var value: String?
    /// What the setting accepts, e.g. "a duration such as 90s, 5m, 5min, 2h or 1d".
    public var expected: String

    public init(setting: String, value: String?, expected: String) {
        self.setting = setting
        self.value = value
        self.expected = expected
    }

    public var description: String {
        if let value { return "\(setting) '\(value)' is not \(expected)" }
        return "\(setting) must be \(expected)"
    }
}
