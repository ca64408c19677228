import Foundation

/// The answer of `GET /sobjects/{Object}/deleted/?start=…&end=…` (getDeleted): records deleted in a window of at
/// most the last 15 days, including those already purged from the recycle bin (which `queryAll` no longer sees).
public struct DeletedRecords: Sendable, Equatable {
    /// Ids with their deletion time, as Salesforce lists them.
    public var records: [DeletedRecord]
    /// The oldest deletion the org still logs. Later than the last time deletes were read means some were lost:
    /// only a full resync brings the table right then.
    public var earliestDateAvailable: Date?
    /// Deletions are complete up to this instant (a whole minute), which may be before the requested end.
    public var latestDateCovered: Date?
}

/// One entry of ``DeletedRecords``.
public struct DeletedRecord: Sendable, Equatable {
    public var id: String
    /// When it was deleted; `nil` if Salesforce sent a date this client cannot read.
    public var deletedDate: Date?
}

extension DeletedRecords: Decodable {
    private enum CodingKeys: String, CodingKey { case deletedRecords, earliestDateAvailable, latestDateCovered }

    /// Reads a getDeleted body. `deletedRecords` must be a list (an answer without one is not getDeleted's), and
    /// an entry without an id fails the answer: skipping it would keep a deleted row forever.
    public init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            records: try json.decode([DeletedRecord].self, forKey: .deletedRecords),
            earliestDateAvailable: json.lenientString(.earliestDateAvailable).flatMap(SalesforceDateTime.parse),
            latestDateCovered: json.lenientString(.latestDateCovered).flatMap(SalesforceDateTime.parse))
    }
}

extension DeletedRecord: Decodable {
    private enum CodingKeys: String, CodingKey { case id, deletedDate }

    /// Reads one `deletedRecords[]` entry; `id` is required, an unreadable `deletedDate` reads as `nil`.
    public init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        guard let id = json.lenientString(.id), !id.isEmpty else {
            throw DecodingError.keyNotFound(
                CodingKeys.id, .init(codingPath: decoder.codingPath, debugDescription: "a deleted record without id"))
        }
        self.init(id: id, deletedDate: json.lenientString(.deletedDate).flatMap(SalesforceDateTime.parse))
    }
}

/// The answer of `GET /limits/recordCount?sObjects=…`: `{"sObjects":[{"count":…,"name":…}]}`, an estimate
/// Salesforce refreshes periodically (not a live count).
struct RecordCountAnswer: Decodable {
    var counts: [String: Int]

    private struct Entry: Decodable {
        var name: String
        var count: Int

        init(from decoder: any Decoder) throws {
            let json = try decoder.container(keyedBy: AnyKey.self)
            guard let name = json.lenientString(AnyKey("name")), let count = json.lenientInt(AnyKey("count")) else {
                throw DecodingError.keyNotFound(
                    AnyKey("count"), .init(codingPath: decoder.codingPath, debugDescription: "no name or count"))
            }
            self.name = name
            self.count = count
        }
    }

    init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: AnyKey.self)
        let entries = json.lenientList(Entry.self, AnyKey("sObjects"))
        counts = Dictionary(entries.map { ($0.name, $0.count) }, uniquingKeysWith: { first, _ in first })
    }
}
