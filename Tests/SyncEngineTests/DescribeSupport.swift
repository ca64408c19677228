import Foundation
import Logging
import PostgresLoader
import SalesforceClient
import SyncEngine
import TestSupport

/// Helpers for the describe, drift, formula and audit tests.
extension E2EFixture {
    /// A client for describe calls against the emulator.
    func describeClient() throws -> SalesforceClient {
        let logger = Logger(label: "describe") { _ in SwiftLogNoOpLogHandler() }
        return SalesforceClient(configuration: try SalesforceConfiguration.fromEnvironment(environment), logger: logger)
    }

    /// Writes `yaml` as `<name>.yaml` into a fresh directory and loads it, so errors can name a real file and line.
    func writeJob(_ yaml: String, name: String) throws -> JobDefinition {
        let file = try ScratchDirectory.make("sfpg-jobs") + "/\(name).yaml"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        return try JobDefinition.load(file: file)
    }

    /// The job's table in the truth's text form, for every column type `sfpg describe` creates: arrays joined
    /// with `;`, times as `HH:MM:SS.mmmZ`, timestamps in UTC.
    func typedTable(_ job: JobDefinition) throws -> [String: [String?]] {
        let schema = job.table.schema ?? "public"
        let types = try connection.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
            [schema, job.table.name])
        var typeOf: [String: String] = [:]
        for row in types.rows { typeOf[row[0] ?? ""] = row[1] ?? "" }
        let expressions = job.fields.map(\.column).map { column -> String in
            let q = SQLIdentifier.quote(column)
            switch typeOf[column] ?? "text" {
            case "timestamp with time zone": return "to_char(\(q) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            case "boolean": return "CASE WHEN \(q) THEN 'true' WHEN NOT \(q) THEN 'false' END"
            case "date": return "to_char(\(q), 'YYYY-MM-DD')"
            case "time without time zone": return "to_char(\(q), 'HH24:MI:SS.MS') || 'Z'"
            case "ARRAY": return "array_to_string(\(q), ';')"
            default: return "\(q)::text"
            }
        }
        let result = try connection.execute(
            "SELECT \(SQLIdentifier.quote(keyColumn(job)))::text, \(expressions.joined(separator: ", ")) FROM \(job.table.quoted)")
        var rows: [String: [String?]] = [:]
        for row in result.rows { rows[row[0] ?? ""] = Array(row.dropFirst()) }
        return rows
    }

    /// SOQL of every Bulk job created so far, in order.
    var submittedSOQL: [String] { jobCreations.compactMap(\.soql) }

    func value(_ sql: String, _ parameters: [String?] = []) throws -> String? {
        try connection.execute(sql, parameters).rows.first?.first ?? nil
    }
}
