import CivilTime
import Foundation

/// Salesforce's datetimes: REST and Bulk JSON write `2024-09-09T13:08:34.000+0000`, CSV results `…Z`, and the
/// docs' examples `…+00:00`. Read all of them (fraction optional, any offset); write one form.
enum SalesforceDateTime {
    /// The instant `text` names, or `nil` when it is not `yyyy-MM-ddTHH:mm:ss[.fff](Z|±HHMM|±HH:MM)`.
    static func parse(_ text: String) -> Date? {
        Timestamps.parseDatetime(text).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// `2024-05-05T00:00:00.000+00:00`, UTC, the form of the REST docs' examples.
    static func format(_ date: Date) -> String {
        Timestamps.datetime(millis: Int64((date.timeIntervalSince1970 * 1000).rounded(.down))).dropLast() + "+00:00"
    }
}
