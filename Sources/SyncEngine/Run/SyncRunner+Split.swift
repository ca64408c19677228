import Foundation
import Logging
import SalesforceClient

extension SyncRunner {
    /// The `Id` ranges of a split full run: the smallest and largest Id the run's query reads
    /// (``BulkJobs/idBounds(within:)``), evenly interpolated by ``SplitRanges``. One range when the plan does not
    /// split or the object is empty.
    func splitRanges(for plan: SyncPlan, jobs: BulkJobs) throws -> SplitRanges {
        guard plan.split > 1 else { return SplitRanges(smallest: nil, largest: nil, parts: 1) }
        let (smallest, largest) = try jobs.idBounds()
        let ranges = SplitRanges(smallest: smallest, largest: largest, parts: plan.split)
        jobs.logger.info(
            "split ranges",
            metadata: [
                "sf.smallest_id": "\(smallest ?? "-")", "sf.largest_id": "\(largest ?? "-")",
                "sync.bulk_jobs": .stringConvertible(ranges.count), "sync.boundaries": "\(ranges.boundaries.joined(separator: ","))",
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
