import Foundation

/// The org's daily API request usage, from `Sforce-Limit-Info: api-usage=<used>/<max>`.
public struct ApiUsage: Sendable, Equatable {
    /// Requests used in the rolling 24 hours.
    public var used: Int
    /// The org's daily maximum.
    public var max: Int
}

extension ApiUsage {
    /// Parses the header leniently: segments separated by `;` or `,`, the `api-usage=` one read, others ignored.
    init?(limitInfoHeader header: String) {
        let prefix = "api-usage="
        guard
            let segment = header.split(whereSeparator: { $0 == ";" || $0 == "," })
                .map({ $0.trimmingCharacters(in: .whitespaces) }).first(where: { $0.lowercased().hasPrefix(prefix) })
        else { return nil }
        let numbers = segment.dropFirst(prefix.count).split(separator: "/")
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == 2, let used = numbers[0], let max = numbers[1] else { return nil }
        self.init(used: used, max: max)
    }
}
