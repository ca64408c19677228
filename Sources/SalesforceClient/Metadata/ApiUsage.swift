import Foundation

/// The org's daily API request usage, from `Sforce-Limit-Info: api-usage=<used>/<max>`.
public struct ApiUsage: Sendable, Equatable {
    /// Requests used in the rolling 24 hours.
    public var used: Int
    /// The org's daily maximum.
    public var max: Int

    /// Creates a usage value.
    public init(used: Int, max: Int) {
        self.used = used
        self.max = max
    }

    /// Parses the header leniently: segments separated by `;` or `,`, the `api-usage=` one read, others ignored.
    init?(limitInfoHeader header: String) {
        for segment in header.split(whereSeparator: { $0 == ";" || $0 == "," }) {
            let trimmed = segment.trimmingCharacters(in: .whitespaces)
            guard trimmed.lowercased().hasPrefix("api-usage=") else { continue }
            let numbers = trimmed.dropFirst("api-usage=".count).split(separator: "/")
            guard numbers.count == 2,
                let used = Int(numbers[0].trimmingCharacters(in: .whitespaces)),
                let max = Int(numbers[1].trimmingCharacters(in: .whitespaces))
            else { return nil }
            self.init(used: used, max: max)
            return
        }
        return nil
    }
}
