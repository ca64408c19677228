import Foundation
import PostgresLoader
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

@testable import SyncEngine

/// A split range whose Bulk job fails for being too big is split again; its halves together are exactly the range.
@Suite struct ResplitRangesTests {
    /// A deterministic generator, so a failure names a reproducible case.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    static func randomId(prefix: String, _ random: inout SplitMix) -> String {
        prefix + String((prefix.count..<15).map { _ in digits[Int.random(in: 0..<62, using: &random)] })
    }

    static func contains(_ range: IdRange, _ id: String) -> Bool {
        let key = String(id.prefix(15))
        return range.lower.map { key >= $0 } ?? true && range.upper.map { key < $0 } ?? true
    }

    @Test func nestedResplitsOfRandomRangesStillCoverEveryIdExactlyOnce() {
        var random = SplitMix(state: 12)
        for trial in 0..<300 {
            // A shared prefix of random length, as Ids of one object on one or several pods have.
            let prefix = Self.randomId(prefix: "003", &random).prefix(Int.random(in: 3...13, using: &random))
            let ends = [Self.randomId(prefix: String(prefix), &random), Self.randomId(prefix: String(prefix), &random)].sorted()
            let ranges = SplitRanges(smallest: ends[0], largest: ends[1], parts: Int.random(in: 2...16, using: &random))
            guard ranges.count > 1 else { continue }
            var final = (0..<ranges.count).map(ranges.range)
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                let index = Int.random(in: 0..<final.count, using: &random)
                guard let (lower, upper) = ranges.halves(of: final[index]) else { continue }
                #expect(lower.lower == final[index].lower && upper.upper == final[index].upper && lower.upper == upper.lower)
                final.replaceSubrange(index...index, with: [lower, upper])
            }
            // Contiguous, open at both ends, each range non-empty: the union is everything and they are disjoint.
            #expect(final.first?.lower == nil && final.last?.upper == nil, "trial \(trial)")
            for (a, b) in zip(final, final.dropFirst()) {
                #expect(a.upper != nil && a.upper == b.lower, "trial \(trial): \(a) \(b)")
            }
            for range in final { if let l = range.lower, let u = range.upper { #expect(l < u, "trial \(trial): \(range)") } }
            for boundary in final.compactMap(\.upper) {
                #expect(boundary.count == 15 && boundary.allSatisfy { Self.digits.contains($0) })
            }
            // And, by the conditions' own rule, every Id (between the ends or not) lands in exactly one range.
            var ids = ends + (0..<40).map { _ in Self.randomId(prefix: String(prefix), &random) }
            ids += ["001000000000000", "zzzzzzzzzzzzzzz"] + final.compactMap(\.upper)
            for id in ids { #expect(final.filter { Self.contains($0, id) }.count == 1, "trial \(trial): \(id)") }
        }
    }

    /// Ids from two pods: nearly every record sits at two prefixes. Halving the first range between its bounds
    /// puts the cut in empty Id space; halving it between the Ids it really holds splits its records.
    @Test func aRangeOfClusteredIdsIsHalvedWhereItsRecordsAre() throws {
        let podA = (0..<100).map { "0038d" + String(format: "%010d", $0) }
        let podB = (0..<100).map { "003Hx" + String(format: "%010d", $0) }
        let ranges = SplitRanges(smallest: podA.first, largest: podB.last, parts: 4)
        let first = ranges.range(0)
        let held = (podA + podB).filter { id in first.upper.map { id < $0 } ?? true }
        #expect(held.count >= 100, "pod A's records all lie in the first range")
        func split(_ halves: (IdRange, IdRange)?) -> (Int, Int) {
            guard let (lower, _) = halves else { return (-1, -1) }
            let below = held.filter { id in lower.upper.map { id < $0 } ?? true }.count
            return (below, held.count - below)
        }
        let byBounds = split(ranges.halves(of: first))
        #expect(byBounds.0 == held.count || byBounds.1 == held.count, "the old cut shrinks nothing: \(byBounds)")
        let byRecords = split(ranges.halves(of: first, holding: (held.min()!, held.max()!)))
        #expect(byRecords.0 > 0 && byRecords.1 > 0, "\(byRecords)")
        #expect(max(byRecords.0, byRecords.1) < held.count * 3 / 4, "\(byRecords)")
    }

    @Test func halvesOfAnOpenEndUseTheSmallestOrLargestId() throws {
        let ranges = SplitRanges(smallest: "003000000000001AAA", largest: "003000000123456AAA", parts: 4)
        let (first, _) = try #require(ranges.halves(of: ranges.range(0)))
        #expect(first.lower == nil && first.upper! > "003000000000001" && first.upper! < ranges.boundaries[0])
        let (_, last) = try #require(ranges.halves(of: ranges.range(3)))
        #expect(last.upper == nil && last.lower! > ranges.boundaries[2] && last.lower! < "003000000123456")
        // Too narrow, or recorded without its ends (a shard run's ranges): no halves.
        #expect(ranges.halves(of: IdRange(lower: "003000000000001", upper: "003000000000002")) == nil)
        #expect(SplitRanges(boundaries: ["003000000000100"]).halves(of: IdRange(lower: nil, upper: "003000000000100")) == nil)
        #expect(IdRange(lower: "a", upper: "b").condition == "Id >= 'a' AND Id < 'b'")
        #expect(IdRange(lower: nil, upper: nil).condition == nil)
    }
}
