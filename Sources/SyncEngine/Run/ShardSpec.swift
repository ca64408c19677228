/// `--shard I/N`: this process runs shard `index` (0-based) of `count` of one logical full run of a job.
public struct ShardSpec: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int
    /// The logical run's name (`--shard-run`, in Kubernetes the Job's name); nil joins the newest unfinished run.
    public var runName: String?

    /// The most shards of one run, as many as `split` allows Bulk jobs: each is a Bulk job on Salesforce.
    public static let maxCount = 64

    public init(index: Int, count: Int, runName: String? = nil) {
        self.index = index
        self.count = count
        self.runName = runName
    }

    /// Parses `I/N` (e.g. `2/4`), I in `0..<N`, N in `2...maxCount`.
    /// - Throws: ``SyncError`` (exit 2) naming the expected form.
    public init(parsing text: String, runName: String? = nil) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw SyncError(
                "--shard '\(text)' is not I/N: give the 0-based shard index and the shard count, e.g. --shard 0/4 "
                    + "(in a Kubernetes Indexed Job: --shard $(JOB_COMPLETION_INDEX)/4)",
                exitStatus: .commandLine)
        }
        guard count >= 2, count <= Self.maxCount else {
            throw SyncError(
                "--shard \(text): the shard count must be 2 to \(Self.maxCount) (for one process, leave out --shard)",
                exitStatus: .commandLine)
        }
        guard index >= 0, index < count else {
            throw SyncError(
                "--shard \(text): the shard index must be 0 to \(count - 1) (it is 0-based, like JOB_COMPLETION_INDEX)",
                exitStatus: .commandLine)
        }
        if let runName, runName.isEmpty || runName.count > 200 {
            throw SyncError("--shard-run must be 1 to 200 characters", exitStatus: .configuration)
        }
        self.init(index: index, count: count, runName: runName)
    }

    public var description: String { "\(index)/\(count)" }
}
