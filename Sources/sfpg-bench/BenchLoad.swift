import ArgumentParser
import Foundation
import Logging
import PostgresLoader
import SyncEngine

#if canImport(Glibc)
import Glibc
#endif

/// `sfpg-bench load`: the load half of `scripts/bench-load`: result pages already on disk → COPY writer → merge →
/// commit, timed. A measuring tool for the benchmark scripts, kept out of the production `sfpg` binary.
@main
struct SfpgBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sfpg-bench",
        abstract: "Measuring tools for scripts/bench-load and scripts/bench-sync.",
        subcommands: [BenchLoad.self]
    )
}

extension SfpgBench {
    struct BenchLoad: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "load",
            abstract: "Load saved Bulk API CSV pages through LoadRun (COPY + merge) and print timings as JSON.",
            discussion: """
                Used by scripts/bench-load and scripts/bench-sync. Every *.csv file in --pages, in name order, is one result page (header
                row included). The run is an ordinary non-sweeping full run of the job, so it writes sync_logs and
                sync_state like `sfpg run` would.
                """
        )

        @Option(help: "Directory of result pages (*.csv, loaded in name order).")
        var pages: String?

        @Option(help: "Job file; default: the built-in contacts job.")
        var job: String?

        @Option(help: "Bytes per read and PageWriter.write call.")
        var chunkSize = 256 * 1024

        @Flag(help: "Print the job's SOQL, staging DDL, COPY and merge SQL as JSON instead of loading.")
        var printSQL = false

        @Option(help: "PostgreSQL connection URI or libpq conninfo. Default: $DATABASE_URL, else libpq's PG* variables.")
        var databaseURL: String?

        @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
        var logLevel: String = "info"

        func run() throws {
            let level = Logger.Level(rawValue: logLevel) ?? .info
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            do {
                let job = try self.job.map { try JobDefinition.load(file: $0) } ?? JobDefinition.builtInContacts()
                let settings = BenchSettings.process
                let conninfo = databaseURL ?? settings.databaseURL ?? ""
                let store = SyncStore(try PostgresConnection(conninfo, settings: try settings.postgres()))
                try store.withJobLock(job.name, table: job.table, policy: .failFast) { state in
                    let run = try LoadRun(
                        store: store, state: state, jobName: job.name, objectName: job.object,
                        mapping: job.loadMapping, syncType: .full)
                    if printSQL {
                        let plan = try SyncPlan(job: job, requested: .full, previousWatermark: nil)
                        try printJSON(Self.sqlDescription(run: run, plan: plan))
                        return
                    }
                    guard let pages else { throw ValidationError("--pages is required unless --print-sql") }
                    try printJSON(try load(run, pages: Self.pageFiles(in: pages)))
                }
            } catch let error as ValidationError {
                throw error
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(ExitStatus(for: error).rawValue)
            }
        }

        func load(_ run: LoadRun, pages: [String]) throws -> [String: Any] {
            let clock = ContinuousClock()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(4096, chunkSize), alignment: 16)
            defer { buffer.deallocate() }
            let start = clock.now
            try run.begin()
            var bytes = 0
            for (index, path) in pages.enumerated() {
                let fd = open(path, O_RDONLY)
                guard fd >= 0 else { throw ValidationError("cannot open page \(path): errno \(errno)") }
                defer { close(fd) }
                try run.copyPage(index + 1) { writer in
                    while true {
                        let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
                        if count < 0 { throw ValidationError("cannot read page \(path): errno \(errno)") }
                        if count == 0 { break }
                        bytes += count
                        try writer.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                    }
                }
            }
            let copied = clock.now
            // The pages are local files, so the staged rows are the whole evidence there is.
            let evidence = Reconciliation(expected: run.stagedRows, downloaded: run.stagedRows, pages: pages.count)
            let summary = try run.commit(
                CommitRequest(fullSweep: false, reconciliation: evidence, salesforceJobId: nil, apiCalls: 0))
            let committed = clock.now
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return [
                "pages": pages.count, "bytes": bytes,
                "copySeconds": Self.seconds(copied - start), "mergeCommitSeconds": Self.seconds(committed - copied),
                "totalSeconds": Self.seconds(committed - start),
                "staged": summary.counts.staged, "inserted": summary.counts.inserted,
                "updated": summary.counts.updated, "unchanged": summary.counts.unchanged,
                "deleted": summary.counts.deleted,
                "cpuUserSeconds": Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6,
                "cpuSystemSeconds": Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6,
                "maxRSSKiB": usage.ru_maxrss,
            ]
        }

        /// The pieces the psql contender replays: the same DDL, COPY target and merge, from the same LoadPlan.
        static func sqlDescription(run: LoadRun, plan: SyncPlan) -> [String: Any] {
            let preview = run.previewSQL()
            func statement(_ index: Int) -> String {
                guard index < preview.count else { return "" }
                let text = preview[index]
                let end = text.range(of: ";", options: .backwards)?.lowerBound ?? text.endIndex
                return String(text[..<end])
            }
            return [
                "soql": plan.soql, "operation": plan.operation.rawValue, "stagingDDL": statement(0),
                "copySQL": statement(1), "mergeSQL": statement(2),
            ]
        }

        static func pageFiles(in directory: String) throws -> [String] {
            let names = try FileManager.default.contentsOfDirectory(atPath: directory)
            return names.filter { $0.hasSuffix(".csv") }.sorted().map { directory + "/" + $0 }
        }

        static func seconds(_ duration: Duration) -> Double {
            let parts = duration.components
            return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
        }

        func printJSON(_ object: [String: Any]) throws {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
