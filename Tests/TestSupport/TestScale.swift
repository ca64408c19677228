import Foundation

/// Sizes of the tests that also run at scale, from the test process's environment, e.g.
/// `SFPG_TEST_RESUME_ROWS=1000000 swift test --skip-build --filter ResumeTests`. The defaults keep CI fast.
public enum TestScale {
    /// Contacts of the resume tests (`SFPG_TEST_RESUME_ROWS`, default 20,000).
    public static let resumeRows = setting("SFPG_TEST_RESUME_ROWS", default: 20_000)

    /// A positive whole number from the environment (spaces trimmed), else `value`.
    static func setting(_ name: String, default value: Int) -> Int {
        let text = ProcessInfo.processInfo.environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return Int(text).flatMap { $0 > 0 ? $0 : nil } ?? value
    }
}
