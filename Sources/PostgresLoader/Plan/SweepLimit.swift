/// The most rows a full-sync sweep may delete or mark deleted in one run (`max_sweep` in a job file).
///
/// Records that became invisible to the integration user (a sharing rule, profile or permission change) vanish
/// from query results exactly like deleted ones, so an unbounded sweep would mark a whole table deleted after one
/// permission change. Past the bound the run fails and changes nothing, unless the operator says
/// `--allow-mass-delete` for that one run.
public enum SweepLimit: Sendable, Equatable, CustomStringConvertible {
    /// A share of the table's live rows, `0...1` (`max_sweep: 10%`).
    case fraction(Double)
    /// An absolute number of rows (`max_sweep: 5000`).
    case count(Int)

    /// 10% of the live rows.
    public static let `default` = SweepLimit.fraction(0.10)

    /// The most rows this limit allows out of `liveRows`.
    public func allowance(liveRows: Int) -> Int {
        switch self {
        case .fraction(let share): Int((Double(liveRows) * share).rounded(.down))
        case .count(let rows): rows
        }
    }

    public var description: String {
        switch self {
        case .fraction(let share):
            let percent = share * 100
            return percent == percent.rounded() ? "\(Int(percent))%" : "\(percent)%"
        case .count(let rows): return "\(rows) rows"
        }
    }
}
