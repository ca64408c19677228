import Logging
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

/// `sfpg check`, the run's pre-flight: every check a run makes before its first Bulk job — database, schema, job
/// files, settings, spool directory, credentials, limits, then per job its fields, its query and its target table —
/// through the code the run makes them with, so it fails with the code the run would. A check that needs an earlier
/// one's result is skipped when that one failed.
public struct ReadinessCheck {
    let jobsDirectory: String
    let connect: () throws -> PostgresConnection
    let salesforce: () throws -> SalesforceConfiguration

    /// - Parameters:
    ///   - connect: opens the database connection (the command's options decide where).
    ///   - salesforce: the client's configuration (the command's settings and flags decide it).
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
        var store: SyncStore?
        if let connection {
            check("schema") {
                try SchemaCheck.requireCurrent(connection)
                store = SyncStore(connection)
                return "current"
            }
        }
        var jobs: [JobDefinition] = []
        check("job files") {
            jobs = try JobDefinition.loadAll(directory: jobsDirectory)
            return "\(jobs.count) valid (\(jobs.map(\.name).joined(separator: ", ")))"
        }
        let client = checkSalesforce(check)
        let fields = client.map { FieldCheck(client: $0) }
        for job in jobs {
            // The run checks the table of the job it will run: without the fields on_missing_field: skip dropped.
            var runnable = job
            if let fields { runnable = checkFields(of: job, fields, check: check, report: report) ?? job }
            if let fields, let store {
                check("org of \(job.name)") {
                    let state = try store.state(ofJob: job.name)
                    let checked = try OrgCheck(client: fields.client, logger: Logger(label: "sfpg"))
                        .check(job, state: state, options: SyncOptions())
                    return "the session's org \(checked.checkedOrg.map { "\($0)" } ?? "?") "
                        + (state.orgId == nil ? "(first run: recorded at its commit)" : "is the table's")
                }
            }
            if let connection {
                check("table of \(job.name)") { try TargetTableCheck.require(runnable, connection) }
            }
        }
        return failures
    }

    /// The settings, the spool directory, the credentials and the API limits.
    /// - Returns: the authenticated client, nil when any of the first three failed.
    func checkSalesforce(_ check: (String, () throws -> String) -> Void) -> SalesforceClient? {
        var configuration: SalesforceConfiguration?
        check("salesforce settings") {
            configuration = try salesforce()
            return "read"
        }
        guard let configuration else { return nil }
        check("spool directory") { try SalesforceClient.checkSpoolDirectory(configuration) }
        var client: SalesforceClient?
        check("salesforce credentials") {
            let made = SalesforceClient(configuration: configuration)
            try made.authenticate()
            client = made
            return "authenticated (\(made.instanceURL ?? "?"))"
        }
        if let client { check("api limits") { try Self.limits(client) } }
        return client
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

    /// The job's fields as the run checks them, then its query (the run's filter, as Salesforce reads it).
    /// - Returns: the job the run would run (skipped fields dropped); nil when its fields failed.
    func checkFields(
        of job: JobDefinition, _ fields: FieldCheck, check: (String, () throws -> String) -> Void,
        report: (CheckLine) -> Void
    ) -> JobDefinition? {
        var runnable: JobDefinition?
        check("fields of \(job.name)") {
            let checked = try fields.check(job)
            runnable = checked
            let skipped = job.fields.filter { field in !checked.fields.contains { $0.source == field.source } }
            return "\(checked.fields.count) mapped fields exist on \(job.object)"
                + (skipped.isEmpty ? "" : "; skipped (on_missing_field: skip): "
                    + skipped.map(\.source).joined(separator: ", "))
        }
        guard let runnable else { return nil }
        check("query of \(job.name)") { try Self.query(runnable, fields.client) }
        // New fields are news, not a failure: the job keeps working without them.
        if let unmapped = try? fields.unmappedFields(job), !unmapped.isEmpty {
            report(CheckLine(
                kind: .note, name: job.name,
                detail: "\(unmapped.count) field(s) in Salesforce but not in the job: "
                    + unmapped.map(\.name).joined(separator: ", ")
                    + " (sfpg describe \(job.object) --table \(job.table) --alter prints the DDL)"))
        }
        return runnable
    }

    /// The run's filter (`where:`) is Salesforce's to judge: the run learns of a bad one when its Bulk job is
    /// refused (exit 2, nothing created); the check asks for one Id with the same conditions instead.
    static func query(_ job: JobDefinition, _ client: SalesforceClient) throws -> String {
        struct Row: Decodable {}
        let plan = try SyncPlan(job: job, requested: .full, previousWatermark: nil)
        _ = try client.query(plan.boundarySOQL(ascending: true), operation: plan.operation, as: Row.self) { _ in }
        return job.whereClause == nil ? "Salesforce accepts it" : "Salesforce accepts it with its where: filter"
    }
}
