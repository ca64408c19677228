/// What `sfpg --version` and the `sfpg_build_info` metric report.
///
/// The committed values are placeholders: `scripts/build-release` and the Dockerfile stamp the real commit into
/// this file (with `sed`, on the `commit` line) just before `swift build -c release` and restore it afterwards.
/// A plain `swift build` therefore says `unknown`, which is the truth: it was built from a work tree, not a commit.
enum BuildInfo {
    static let version = "0.9.0"
    static let commit = "unknown"

    /// `sfpg 0.9.0 (commit 1a2b3c4…)`.
    static var description: String { "sfpg \(version) (commit \(commit))" }
}
