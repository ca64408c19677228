import ArgumentParser
import Foundation
import SyncEngine

extension Sfpg {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A record's audit trail (jobs with audit: true): each change with old and new values.",
            discussion: """
                Examples:
                  sfpg history contacts 003000000000001AAA
                  sfpg history contacts 003000000000001AAA --json
                """
        )

        @Argument(help: "The job name.")
        var job: String

        @Argument(help: "The record's key (its Salesforce Id for most jobs).")
        var key: String

        @Flag(help: "Print JSON (an array of changes, oldest first).")
        var json = false

        @OptionGroup var global: GlobalOptions

        func run() throws {
            _ = global.makeLogger()
            do {
                let connection = try global.connect()
                let entries = try RecordHistory.load(connection, job: job, key: key)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    say(String(decoding: try encoder.encode(entries), as: UTF8.self))
                    return
                }
                if entries.isEmpty {
                    say("no recorded changes for \(key) in job \(job) (is audit: true set in its job file?)")
                    return
                }
                for entry in entries {
                    say("\(entry.recordedAt)  \(entry.operation)  run \(entry.runId.map(String.init) ?? "-")  modstamp \(entry.systemModstamp ?? "-")")
                    for change in entry.changes {
                        say("    \(change.column): \(change.old ?? "null") → \(change.new ?? "null")")
                    }
                }
            } catch {
                throw failureExit(error)
            }
        }
    }
}
