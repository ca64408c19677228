/// The process exit codes sfpg documents, so a job runner can tell "retry later" from "fix the config".
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    /// The sync failed: a bad value, a Salesforce job that failed, a database error mid-run.
    case failure = 1
    /// A job file, an option or an environment variable is wrong; nothing was attempted.
    case configuration = 2
    /// Salesforce rejected the credentials, or PostgreSQL the password.
    case authentication = 3
    /// PostgreSQL could not be reached, for a reason a retry can fix (server down or starting, network, too many
    /// connections); a database or role that does not exist is ``configuration``.
    case databaseUnavailable = 4
    /// Another run of the same job holds its lock; try again later.
    case lockHeld = 5
    /// The org's daily API or Bulk API limit is exhausted.
    case apiLimit = 6
    /// `sfpg verify` found records missing, stale or extra in a job's table and was not asked to `--repair` them.
    case drift = 7
    /// A malformed command line (an unknown option, `--shard` not I/N); nothing was attempted.
    case commandLine = 64
    /// SIGINT or SIGTERM: the Bulk job was aborted and the transaction rolled back.
    case cancelled = 130

    /// Maps an error from any layer to the exit code a scheduler should see (``ExitReason`` holds the mapping).
    public init(for error: any Error) {
        self = ExitReason(for: error).status
    }

    /// Most severe first. A code that needs a person (fix the command line, the configuration, the credentials,
    /// look at a failed sync) outranks one a retry resolves, so a scheduler that retries on 4, 5 and 6 does not
    /// retry a run that cannot succeed; among those, the longest wait wins (an API limit lasts up to 24 h), so it
    /// does not retry too soon. A cancellation outranks everything: the operator asked for it.
    public static let severityOrder: [ExitStatus] = [
        .cancelled, .commandLine, .configuration, .authentication, .failure, .drift, .apiLimit, .databaseUnavailable, .lockHeld,
        .success,
    ]

    /// The most severe of several, by ``severityOrder``.
    public static func combined(_ statuses: [ExitStatus]) -> ExitStatus {
        severityOrder.first { statuses.contains($0) } ?? .success
    }
}

/// Errors the sync engine itself raises (drift between a job and the org, a cancelled run).
public struct SyncError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var exitStatus: ExitStatus
    /// What went wrong, when it is finer than the code (a schema not migrated is exit 2, reason `schema`).
    public var reason: ExitReason?

    public init(_ message: String, exitStatus: ExitStatus = .failure, reason: ExitReason? = nil) {
        self.message = message
        self.exitStatus = reason?.status ?? exitStatus
        self.reason = reason
    }

    public var description: String { message }

    /// What a run stopped by SIGTERM/SIGINT reports and records, whatever layer the signal interrupted (a
    /// transfer, a statement): the signal is the cause, not Salesforce or PostgreSQL.
    public static let cancelledBySignal = SyncError(
        "cancelled (signal): SIGTERM or SIGINT stopped the run; its Bulk job was aborted and nothing was committed",
        reason: .cancelled)
}
