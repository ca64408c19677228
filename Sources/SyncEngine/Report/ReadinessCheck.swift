import PostgresLoader
import SalesforceClient

/// One line of `sfpg check`'s report.
public struct CheckLine: Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case ok = "ok  "
        case fail = "FAIL"
        /// News that is not a failure (fields in Salesforce the job does not map).
        case note = "note"
    }

    public var kind: Kind
    public var name: String
    public var detail: String

    public var description: String { "\(kind.rawValue)  \(name): \(detail)" }
}

/// `sfpg check`: the database, its schema, the job files, each job's target table and mapped columns, the Salesforce
/// credentials, the API limits and each job's fields, in that order; a check that needs an earlier one's result is skipped when that one failed.
public struct ReadinessCheck {
    let jobsDirectory: String
    let connect: () throws -> PostgresConnection
    let salesforce: () throws -> SalesforceConfiguration

    /// - Parameters:
    ///   - connect: opens the database connection (the command's options decide where).
    ///   - salesforce: the client's configuration (the command's settings decide it).
    public init(
        jobsDirectory: String, connect: @escaping () throws -> PostgresConnection,
        salesforce: @escaping () throws -> SalesforceConfiguration
    ) {
        self.jobsDirectory = jobsDirectory
        self.connect = connect
        self.salesforce = salesforce
    }

    /// Runs every check, handing each line to `report` as soon as it is known.
    /// - Returns: the exit status of each failed check, in order (empty when all passed).
    public func run(_ report: (CheckLine) -> Void) -> [ExitStatus] {
        var failures: [ExitStatus] = []
        func check(_ name: String, _ body: () throws -> String) {
            do {
                report(CheckLine(kind: .ok, name: name, detail: try body()))
            } catch {
                report(CheckLine(kind: .fail, name: name, detail: "\(error)"))
                failures.append(ExitStatus(for: error))
            }
        }
        var connection: PostgresConnection?
        check("database") {
            let opened = try connect()
            connection = opened
            return "connected (server version \(opened.serverVersion))"
        }
        if let connection {
            check("schema") {
                try SchemaCheck.requireCurrent(connection)
                return "current"
            }
        }
        var jobs: [JobDefinition] = []
        check("job files") {
            jobs = try JobDefinition.loadAll(directory: jobsDirectory)
            return "\(jobs.count) valid (\(jobs.map(\.name).joined(separator: ", ")))"
        }
        if let connection {
            for job in jobs {
                check("table of \(job.name)") { try TargetTableCheck.require(job, connection) }
            }
        }
        var client: SalesforceClient?
        check("salesforce credentials") {
            let made = SalesforceClient(configuration: try salesforce())
            try made.authenticate()
            client = made
            return "authenticated (\(made.instanceURL ?? "?"))"
        }
        if let client {
            check("api limits") { try Self.limits(client) }
            checkFields(of: jobs, client: client, check: check, report: report)
        }
        return failures
    }

    static func limits(_ client: SalesforceClient) throws -> String {
        let limits = try client.limits()
        let names = ["DailyApiRequests", "DailyBulkV2QueryJobs", "DailyBulkV2QueryFileStorageMB"]
        let parts = names.compactMap { name in limits[name].map { "\(name) \($0.remaining)/\($0.max) left" } }
        if let api = limits["DailyApiRequests"], api.remaining <= 0 {
            throw SalesforceError(code: .requestLimitExceeded, message: "DailyApiRequests exhausted (\(api.max) per 24 h)")
        }
        return parts.joined(separator: ", ")
    }

    func checkFields(
        of jobs: [JobDefinition], client: SalesforceClient, check: (String, () throws -> String) -> Void,
        report: (CheckLine) -> Void
    ) {
        let fields = FieldCheck(client: client)
        for job in jobs {
            check("fields of \(job.name)") {
                let runnable = try fields.check(job)
                let skipped = job.fields.filter { field in !runnable.fields.contains { $0.source == field.source } }
                return "\(runnable.fields.count) mapped fields exist on \(job.object)"
                    + (skipped.isEmpty ? "" : "; skipped (on_missing_field: skip): "
                        + skipped.map(\.source).joined(separator: ", "))
            }
            // New fields are news, not a failure: the job keeps working without them.
            if let unmapped = try? fields.unmappedFields(job), !unmapped.isEmpty {
                report(CheckLine(
                    kind: .note, name: job.name,
                    detail: "\(unmapped.count) field(s) in Salesforce but not in the job: "
                        + unmapped.map(\.name).joined(separator: ", ")
                        + " (sfpg describe \(job.object) --table \(job.table) --alter prints the DDL)"))
            }
        }
    }
}
