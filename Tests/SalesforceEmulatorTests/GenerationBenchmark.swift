import Foundation
import Testing

@testable import SalesforceEmulator

/// Generation speed check, off by default: `SFPG_EMULATOR_BENCH=1000000 swift test --filter GenerationBenchmark`.
@Suite struct GenerationBenchmark {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SFPG_EMULATOR_BENCH"] != nil))
    func materializeAllContactFields() throws {
        var configuration = EmulatorConfiguration()
        configuration.contactCount = Int(ProcessInfo.processInfo.environment["SFPG_EMULATOR_BENCH"] ?? "") ?? 1_000_000
        let snapshot = Org(configuration: configuration).snapshot()
        let fields = ObjectSchema.contact.fields.filter { !$0.isCompound }.map(\.name).joined(separator: ", ")
        let (query, table) = try SOQLParser.parse("SELECT \(fields) FROM Contact", snapshot: snapshot)
        let clock = ContinuousClock()
        var results: JobResults?
        let elapsed = try clock.measure {
            results = try ResultMaterializer.materialize(
                query: query, table: table, snapshot: snapshot, includeDeleted: false,
                writer: CSVWriter(columnDelimiter: "COMMA", lineEnding: "LF"), pageSize: 50_000)
        }
        let raw = results?.pages.reduce(0) { $0 + $1.rawBytes } ?? 0
        let gz = results?.pages.reduce(0) { $0 + $1.gzip.count } ?? 0
        print("materialized \(results?.totalRows ?? 0) rows × \(query.columns.count) columns in \(elapsed): \(raw / 1_048_576) MiB CSV, \(gz / 1_048_576) MiB gzip")
        #expect(results?.totalRows == configuration.contactCount)
    }
}
