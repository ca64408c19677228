import PostgresLoader
import SalesforceClient
import SettingsSyntax

/// The process exit codes sfpg documents, so a job runner can tell "retry later" from "fix the config".
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    /// The sync failed: a bad value, a Salesforce job that failed, a database error mid-run.
    case failure = 1
    /// A job file, an option or an environment variable is wrong; nothing was attempted.
    case configuration = 2
    /// Salesforce rejected the credentials.
    case authentication = 3
    /// PostgreSQL could not be reached.
    case databaseUnavailable = 4
    /// Another run of the same job holds its lock; try again later.
    case lockHeld = 5
    /// The org's daily API or Bulk API limit is exhausted.
    case apiLimit = 6
    /// SIGINT or SIGTERM: the Bulk job was aborted and the transaction rolled back.
    case cancelled = 130

    /// Maps an error from any layer to the exit code a scheduler should see.
    public init(for error: any Error) {
        switch error {
        case is JobDefinitionError, is SettingError:
            self = .configuration
        case let error as SalesforceError:
            switch error.code {
            case .configuration: self = .configuration
            // A rejected session is a credential problem too: a fixed SF_ACCESS_TOKEN that expired, or a fresh
            // token the org refuses (no API permission, missing scope). Retrying will not help.
            case .authentication, .invalidSession: self = .authentication
            case .requestLimitExceeded: self = .apiLimit
            case .cancelled: self = .cancelled
            default: self = .failure
            }
        case let error as PostgresError:
            switch error.code {
            case .connection: self = .databaseUnavailable
            case .lockHeld: self = .lockHeld
            case .configuration: self = .configuration
            default: self = .failure
            }
        case let error as SyncError:
            self = error.exitStatus
        default:
            self = .failure
        }
    }

    /// The worst of several: configuration and credential problems outrank a transient failure of one job.
    public static func combined(_ statuses: [ExitStatus]) -> ExitStatus {
        statuses.first { $0 == .cancelled }
            ?? statuses.first { $0 == .configuration || $0 == .authentication }
            ?? statuses.first { $0 != .success } ?? .success
    }
}

/// Errors the sync engine itself raises (drift between a job and the org, a cancelled run).
public struct SyncError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var exitStatus: ExitStatus

    public init(_ message: String, exitStatus: ExitStatus = .failure) {
        self.message = message
        self.exitStatus = exitStatus
    }

    public var description: String { message }
}
