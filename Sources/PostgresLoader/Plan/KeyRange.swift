/// A half-open range of keys, `lower <= key < upper` (either end open when nil), that one shard of a sharded full run
/// owns: its sweep judges only target rows in it.
///
/// The comparison is `COLLATE "C"` (bytewise) because the Bulk query reads the same range with SOQL's `Id >= 'b'` /
/// `Id < 'b'`, which compares Ids in ASCII order; a database's default collation (`en_US.UTF-8`) sorts `a` before
/// `B` and would give the sweep a different range than the query, deleting rows another shard just loaded. A
/// 15-character boundary against an 18-character key agrees with SOQL too: SOQL extends the literal to the same
/// Id, and an 18-character key whose first 15 characters equal the boundary sorts after it in `C` order, so it is
/// in `>= b` and not in `< b` on both sides.
public struct KeyRange: Sendable, Equatable, CustomStringConvertible {
    public var lower: String?
    public var upper: String?
    /// Besides the bounds, only keys listed in this relation's `key` column: `sfpg verify --repair` sweeps just the
    /// keys it found gone from Salesforce (``verifiedExtras``). A fixed temp-table name, never user input.
    var listedIn: String?

    public init(lower: String?, upper: String?) {
        self.lower = lower
        self.upper = upper
    }

    /// The keys a verify staged as live in the table and gone from Salesforce (``DriftCheck/stageExtras(_:)``).
    public static let verifiedExtras = KeyRange(lower: nil, upper: nil, listedIn: LoadPlan.verifyExtras)

    init(lower: String?, upper: String?, listedIn: String?) {
        self.init(lower: lower, upper: upper)
        self.listedIn = listedIn
    }

    /// Every key.
    public static let all = KeyRange(lower: nil, upper: nil)
    /// No key at all: a shard left without a range when the object had too few Ids to split N ways.
    public static let none = KeyRange(lower: "", upper: "")

    /// The condition on `column` (a quoted, possibly qualified column), with the bounds as parameters numbered from
    /// `firstParameter`; nil for ``all``. Pass ``parameters`` in the same order.
    public func sqlCondition(column: String, firstParameter: Int) -> String? {
        var parts: [String] = []
        var next = firstParameter
        if lower != nil {
            parts.append("\(column)::text COLLATE \"C\" >= $\(next)::text COLLATE \"C\"")
            next += 1
        }
        if upper != nil { parts.append("\(column)::text COLLATE \"C\" < $\(next)::text COLLATE \"C\"") }
        if let listedIn { parts.append("\(column) IN (SELECT l.key FROM \(listedIn) AS l)") }
        return parts.isEmpty ? nil : parts.joined(separator: " AND ")
    }

    /// The bounds, in the order ``sqlCondition(column:firstParameter:)`` numbers them.
    public var parameters: [String?] { [lower, upper].compactMap { $0 }.map { Optional($0) } }

    public var description: String { "[\(lower ?? "-∞"), \(upper ?? "+∞"))" }
}
