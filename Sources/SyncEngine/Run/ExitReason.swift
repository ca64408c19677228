import PostgresLoader
import SalesforceClient
import SettingsSyntax

/// Why a command or a job failed: the one mapping from typed errors to exit codes, used by every command.
///
/// A reason is finer than its code (a schema problem and a bad job file are both exit 2) so that a run's closing
/// line can say what went wrong per job ("2 of 3 jobs failed: 1 credentials, 1 schema").
public enum ExitReason: String, Sendable, CaseIterable {
    case commandLine = "command line"
    case configuration
    case schema
    /// The session belongs to another org than the one the job's table was read from (``OrgCheck``).
    case orgChanged = "org changed"
    case credentials
    case databaseUnreachable = "database unreachable"
    case lock
    case apiLimit = "API limit"
    /// The next step would have taken the org past `api_budget` (``ApiBudget``); stopped before it.
    case apiBudget = "api_budget"
    case failure = "sync failure"
    /// `sfpg verify` found drift it was not asked to repair.
    case drift
    case cancelled

    /// The exit code a scheduler sees.
    public var status: ExitStatus {
        switch self {
        case .commandLine: .commandLine
        case .configuration, .schema, .orgChanged: .configuration
        case .credentials: .authentication
        case .databaseUnreachable: .databaseUnavailable
        case .lock: .lockHeld
        case .apiLimit, .apiBudget: .apiLimit
        case .failure: .failure
        case .drift: .drift
        case .cancelled: .cancelled
        }
    }

    /// The reason a code stands for when nothing finer is known.
    public init(_ status: ExitStatus) {
        self = Self.allCases.first { $0.status == status } ?? .failure
    }

    /// SQLSTATEs of a target the job names but the database lacks: undefined table, column, schema, object.
    static let missingObjectStates: Set<String> = ["42P01", "42703", "3F000", "42704"]

    /// Maps an error from any layer.
    public init(for error: any Error) {
        switch error {
        case is JobDefinitionError, is SettingError:
            self = .configuration
        case let error as SalesforceError:
            self = Self.reason(for: error)
        case let error as PostgresError:
            self = Self.reason(for: error)
        case let error as SyncError:
            self = error.reason ?? ExitReason(error.exitStatus)
        default:
            self = .failure
        }
    }

    static func reason(for error: SalesforceError) -> ExitReason {
        switch error.code {
        // A TLS trust failure is fixed by a setting (SF_CA_BUNDLE or the system's CA store), and the credentials
        // were never sent: configuration, not credentials; a retry cannot help.
        case .configuration, .tls: .configuration
        // Salesforce refused the job's SOQL before any Bulk job existed: a field or a `where:` to fix.
        case .invalidQuery: .configuration
        // A rejected session is a credential problem too: a fixed SF_ACCESS_TOKEN that expired, or a fresh
        // token the org refuses (no API permission, missing scope). Retrying will not help.
        case .authentication, .invalidSession: .credentials
        case .requestLimitExceeded: .apiLimit
        case .cancelled: .cancelled
        default: .failure
        }
    }

    static func reason(for error: PostgresError) -> ExitReason {
        if let state = error.sqlState, missingObjectStates.contains(state) { return .schema }
        switch error.code {
        // Only a connection a retry can establish (server down, network, too many connections) is "unreachable".
        case .connection: return .databaseUnreachable
        case .authentication: return .credentials
        case .lockHeld: return .lock
        case .configuration: return .configuration
        case .schema: return .schema
        default: return .failure
        }
    }
}

extension JobOutcome {
    /// Records `error` as the job's failure: its reason, its exit code and its message (`message`, else the
    /// error's description); a cancellation when `cancelled`, whatever layer's error the signal surfaced as.
    mutating func fail(_ error: any Error, cancelled: Bool = false, message: String? = nil) {
        let reason = cancelled ? ExitReason.cancelled : ExitReason(for: error)
        self.reason = reason
        status = reason.status
        failure = error
        self.error = message ?? String(describing: cancelled ? SyncError.cancelledBySignal : error)
    }

    /// The closing line of a run with failed jobs, counting them by reason, most severe first: "2 of 3 jobs
    /// failed: 1 credentials, 1 schema". `nil` when every job succeeded.
    public static func failureSummary(_ outcomes: [JobOutcome]) -> String? {
        let reasons = outcomes.filter { $0.status != .success }.map { $0.reason ?? ExitReason($0.status) }
        guard !reasons.isEmpty else { return nil }
        let rank = { (reason: ExitReason) in ExitStatus.severityOrder.firstIndex(of: reason.status) ?? .max }
        let counted = Dictionary(grouping: reasons, by: \.self)
            .sorted { (rank($0.key), $0.key.rawValue) < (rank($1.key), $1.key.rawValue) }
            .map { "\($0.value.count) \($0.key.rawValue)" }
        let noun = outcomes.count == 1 ? "job" : "jobs"
        return "\(reasons.count) of \(outcomes.count) \(noun) failed: \(counted.joined(separator: ", "))"
    }
}
