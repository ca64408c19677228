import Foundation
import Logging
import SalesforceClient

extension SyncRunner {
    /// The `Id` ranges of a split full run: the smallest and largest Id the run's query reads (``idBounds``),
    /// evenly interpolated by ``SplitRanges``. One range when the plan does not split or the object is empty.
    func splitRanges(for plan: SyncPlan, job: JobDefinition, logger: Logger) throws -> SplitRanges {
        guard plan.split > 1 else { return SplitRanges(smallest: nil, largest: nil, parts: 1) }
        let (smallest, largest) = try idBounds(of: plan, within: nil, logger: logger)
        let ranges = SplitRanges(smallest: smallest, largest: largest, parts: plan.split)
        logger.info(
            "split ranges",
            metadata: [
                "sf.smallest_id": "\(smallest ?? "-")", "sf.largest_id": "\(largest ?? "-")",
                "sync.bulk_jobs": "\(ranges.count)", "sync.boundaries": "\(ranges.boundaries.joined(separator: ","))",
            ])
        return ranges
    }

    /// `range` cut in two where its own records are (``SplitRanges/halves(of:holding:)``): between the smallest and
    /// largest Id it really holds, read with the same two one-row queries. If those fail too, the cut is
    /// interpolated between the range's ends, as before. Nil when the range cannot be halved.
    func halves(of range: IdRange, in ranges: SplitRanges, plan: SyncPlan, logger: Logger) -> (IdRange, IdRange)? {
        do {
            let (smallest, largest) = try idBounds(of: plan, within: range, logger: logger)
            guard let smallest, let largest else { return nil }
            return ranges.halves(of: range, holding: (smallest, largest))
        } catch {
            logger.warning(
                "could not read the Id range's own ends; halving it between its bounds",
                metadata: ["sf.range": "\(range)", "error": "\(error)"])
            return ranges.halves(of: range)
        }
    }

    /// The smallest and largest Id the plan's query reads (within `range`), from two one-row Bulk queries
    /// submitted together; nil ends when it reads nothing.
    ///
    /// The two jobs are aborted if need be and deleted whatever happens; they read one Id each, so a process killed
    /// meanwhile leaves little behind (Salesforce deletes jobs after 7 days).
    func idBounds(of plan: SyncPlan, within range: IdRange?, logger: Logger) throws -> (String?, String?) {
        var created: [String] = []
        defer { for id in created { abandon(id, logger: logger) } }
        for ascending in [true, false] {
            let soql = plan.boundarySOQL(ascending: ascending, range: range?.condition)
            created.append(try client.createQueryJob(soql, operation: plan.operation).id)
        }
        var ends: [String?] = []
        for id in created {
            let done = try client.waitForCompletion(id)
            let capture = FirstIdCapture()
            _ = try client.downloadResults(id, maxRecords: nil, expectedRecords: done.numberRecordsProcessed, into: capture)
            ends.append(capture.firstId)
        }
        return (ends[0], ends[1])
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
