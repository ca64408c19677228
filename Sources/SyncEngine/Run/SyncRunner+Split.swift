import Foundation
import Logging
import SalesforceClient

extension SyncRunner {
    /// The `Id` ranges of a split full run: the smallest and largest Id the run's query reads, from two one-row
    /// Bulk queries submitted together (the client has no REST query, and SOQL aggregates are not Bulk-able), evenly
    /// interpolated by ``SplitRanges``. One range when the plan does not split or the object is empty.
    ///
    /// The two jobs are aborted if need be and deleted whatever happens; they read one Id each, so a process killed
    /// meanwhile leaves little behind (Salesforce deletes jobs after 7 days).
    func splitRanges(for plan: SyncPlan, job: JobDefinition, logger: Logger) throws -> SplitRanges {
        guard plan.split > 1 else { return SplitRanges(smallest: nil, largest: nil, parts: 1) }
        var created: [String] = []
        defer { for id in created { abandon(id, logger: logger) } }
        for ascending in [true, false] {
            created.append(
                try client.createQueryJob(plan.boundarySOQL(object: job.object, ascending: ascending), operation: plan.operation).id)
        }
        var ends: [String?] = []
        for id in created {
            let done = try client.waitForCompletion(id)
            let capture = FirstIdCapture()
            _ = try client.downloadResults(id, maxRecords: nil, expectedRecords: done.numberRecordsProcessed, into: capture)
            ends.append(capture.firstId)
        }
        let ranges = SplitRanges(smallest: ends[0], largest: ends[1], parts: plan.split)
        logger.info(
            "split ranges",
            metadata: [
                "sf.smallest_id": "\(ends[0] ?? "-")", "sf.largest_id": "\(ends[1] ?? "-")",
                "sync.bulk_jobs": "\(ranges.count)", "sync.boundaries": "\(ranges.boundaries.joined(separator: ","))",
            ])
        return ranges
    }
}

/// Keeps the first data value of a one-column CSV result (`"Id"\n"001…"\n`).
final class FirstIdCapture: ResultPageConsumer {
    private var bytes: [UInt8] = []

    func beginPage(_ number: Int) throws { bytes.removeAll() }

    func consume(_ buffer: UnsafeRawBufferPointer) throws {
        // One Id and a header: anything past a few hundred bytes is not needed.
        if bytes.count < 512 { bytes.append(contentsOf: buffer.prefix(512 - bytes.count)) }
    }

    func finishPage(_ number: Int, recordCount: Int) throws {
        if recordCount == 0 { bytes.removeAll() }
        if firstId == nil { firstId = Self.firstValue(bytes) }
    }

    func discardPage(_ number: Int) throws { bytes.removeAll() }

    private(set) var firstId: String?

    static func firstValue(_ bytes: [UInt8]) -> String? {
        let lines = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline)
        guard lines.count >= 2 else { return nil }
        let value = lines[1].trimmingCharacters(in: .init(charactersIn: "\"\r "))
        return value.isEmpty ? nil : value
    }
}
