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
        let results = ResultMaterializer.materialize(
            Selection(query: query, table: table, snapshot: snapshot, includeDeleted: false),
            writer: CSVWriter(columnDelimiter: "COMMA", lineEnding: "LF"))
        var raw = 0
        var offset = 0
        let elapsed = clock.measure {
            while offset < results.totalRows {
                let page = results.render(from: offset, maxRecords: 50_000, maxBytes: .max, total: results.totalRows)
                raw += page.csv.count
                offset = page.end
            }
        }
        print("rendered \(results.totalRows) rows × \(query.columns.count) columns in \(elapsed): \(raw / 1_048_576) MiB CSV")
        #expect(results.totalRows == configuration.contactCount && offset == results.totalRows)
    }
}
