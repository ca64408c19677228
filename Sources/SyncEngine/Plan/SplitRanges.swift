import PostgresLoader

/// Disjoint `Id` ranges that together cover every Id, for a full run read by several Bulk jobs (`split: N`).
///
/// Salesforce has no cheap way to ask for Id quantiles (aggregates and OFFSET are REST-only, OFFSET stops at 2000,
/// and a Bulk job cannot run them), so the ranges interpolate evenly, in base 62, between the smallest and the
/// largest Id (two tiny `ORDER BY Id LIMIT 1` queries). A 15-character Id is a base-62 number whose digits
/// `0-9A-Za-z` sort in ASCII order, and SOQL compares Ids that way, so every boundary is a valid Id literal and
/// `Id < b₁`, `b₁ <= Id < b₂`, …, `Id >= bₙ₋₁` are disjoint and cover everything — whatever the Ids' distribution
/// (the key prefix and pod characters are not assumed: the interpolation starts at the first character where the
/// smallest and largest Id differ) and including records created after the boundaries were read (the first and
/// last ranges are open). Ids are sequential within a pod, so the ranges are usually close to even; an uneven
/// split only costs speed, never a record.
public struct SplitRanges: Sendable, Equatable {
    /// Strictly increasing 15-character boundaries; `boundaries.count + 1` ranges.
    public var boundaries: [String]
    /// The Ids the boundaries were interpolated between, kept so that an open first or last range can be split
    /// again (``halves(of:)``); nil for ranges recorded without them.
    public var smallest: String?
    public var largest: String?

    public var count: Int { boundaries.count + 1 }

    static let digits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    /// Characters interpolated at once: 62¹⁰ < 2⁶³, and (62¹⁰)·16 < 2⁶⁴.
    static let window = 10

    /// - Parameters:
    ///   - smallest/largest: the object's smallest and largest Id (15 or 18 characters); nil when it has none.
    ///   - parts: the ranges wanted; fewer come back when the Ids are too close together to split that often.
    public init(smallest: String?, largest: String?, parts: Int) {
        self.smallest = smallest
        self.largest = largest
        boundaries = []
        guard parts > 1, let smallest, let largest else { return }
        boundaries = Self.interpolate(from: smallest, to: largest, parts: parts)
    }

    /// Up to `parts - 1` strictly increasing 15-character Ids strictly between `low` and `high` (compared on their
    /// first 15 characters), evenly spaced in base 62; none when the two are not Ids or too close together.
    static func interpolate(from low: String, to high: String, parts: Int) -> [String] {
        guard parts > 1, let low = digitValues(low), let high = digitValues(high), low.lexicographicallyPrecedes(high)
        else { return [] }
        let common = zip(low, high).prefix { $0 == $1 }.count
        let width = min(Self.window, 15 - common)
        let a = Self.number(low[common..<(common + width)]), b = Self.number(high[common..<(common + width)])
        guard b > a else { return [] }
        var previous = a
        var boundaries: [String] = []
        for k in 1..<parts {
            let (product, overflow) = (b - a).multipliedReportingOverflow(by: UInt64(k))
            let value = a + (overflow ? (b - a) / UInt64(parts) * UInt64(k) : product / UInt64(parts))
            guard value > previous, value < b else { continue }
            previous = value
            let head = low[..<common].map { Self.digits[Int($0)] }
            let middle = Self.encode(value, width: width)
            let tail = [UInt8](repeating: Self.digits[0], count: 15 - common - width)
            boundaries.append(String(decoding: head + middle + tail, as: UTF8.self))
        }
        return boundaries
    }

    /// Ranges recorded earlier (a shard run's agreed boundaries), strictly increasing.
    public init(boundaries: [String]) {
        self.boundaries = boundaries
    }

    /// The SOQL condition of range `index` (0-based), e.g. `Id >= 'a' AND Id < 'b'`; nil for a single range.
    public func condition(_ index: Int) -> String? {
        guard !boundaries.isEmpty else { return nil }
        return range(index).condition
    }

    /// Range `index` (0-based) by its two ends.
    public func range(_ index: Int) -> IdRange {
        IdRange(
            lower: index > 0 ? boundaries[index - 1] : nil, upper: index < boundaries.count ? boundaries[index] : nil)
    }

    /// `range` cut in two at an Id interpolated between its own ends (an open end stands for the smallest or largest
    /// Id read for these ranges): `[lower, middle)` and `[middle, upper)`, which are disjoint and together exactly
    /// `range`, because `middle` lies strictly between the ends. Nil when the ends are too close together (or an
    /// open end has no smallest/largest Id to stand for it).
    ///
    /// - Parameter holding: the smallest and largest Id the range really holds. Given, the cut lies between them:
    ///   Ids from several pods cluster at a few prefixes, and a cut between the range's own ends can fall in empty
    ///   Id space, leaving every record on one side. Nil interpolates between the range's ends.
    public func halves(of range: IdRange, holding: (smallest: String, largest: String)? = nil) -> (IdRange, IdRange)? {
        guard let low = holding?.smallest ?? range.lower ?? smallest, let high = holding?.largest ?? range.upper ?? largest,
            let middle = Self.interpolate(from: low, to: high, parts: 2).first
        else { return nil }
        // An open end's stand-in may lie beyond a recorded end (an Id created since); the cut must stay inside.
        if let lower = range.lower, middle <= lower { return nil }
        if let upper = range.upper, middle >= upper { return nil }
        return (IdRange(lower: range.lower, upper: middle), IdRange(lower: middle, upper: range.upper))
    }

    /// The first 15 characters of an Id as base-62 digit values; nil when it is not an Id.
    static func digitValues(_ id: String) -> [UInt8]? {
        let bytes = Array(id.utf8)
        guard bytes.count == 15 || bytes.count == 18 else { return nil }
        var values: [UInt8] = []
        for byte in bytes.prefix(15) {
            guard let index = digits.firstIndex(of: byte) else { return nil }
            values.append(UInt8(index))
        }
        return values
    }

    static func number(_ values: ArraySlice<UInt8>) -> UInt64 {
        values.reduce(0) { $0 * 62 + UInt64($1) }
    }

    static func encode(_ value: UInt64, width: Int) -> [UInt8] {
        var value = value
        var out = [UInt8](repeating: digits[0], count: width)
        for i in stride(from: width - 1, through: 0, by: -1) {
            out[i] = digits[Int(value % 62)]
            value /= 62
        }
        return out
    }
}

/// The Ids `lower <= Id < upper`: the same half-open range the loader sweeps (``KeyRange``), read by SOQL.
public typealias IdRange = KeyRange

extension KeyRange {
    /// The SOQL condition, e.g. `Id >= 'a' AND Id < 'b'`; nil when both ends are open. Ends are 15-character Ids,
    /// compared as SOQL compares `Id` (ASCII order, which is base-62 order).
    public var condition: String? {
        let parts = [lower.map { "Id >= '\($0)'" }, upper.map { "Id < '\($0)'" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " AND ")
    }
}
