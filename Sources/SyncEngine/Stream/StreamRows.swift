import Avro
import CivilTime
import Foundation
import PostgresLoader

/// How a job reads change events: which event field (or compound component) feeds which mapped column, how a
/// decoded value is written for the column's type, and which records an event cannot be applied from.
struct StreamRows {
    let mapping: LoadMapping
    let columnType: (String) -> String?
    /// Lower-cased field → column of every mapped field but the key, modstamp and deleted flag (the event's own).
    private let columns: [String: String]
    /// The reference fields mapped relationship fields read through (`AccountId` for `Account.Name`), lower-cased.
    private let references: Set<String>

    /// The job has a `where:` filter, which events know nothing of: their records are re-read, through the filter.
    let filtered: Bool

    init(mapping: LoadMapping, filtered: Bool, columnType: @escaping (String) -> String?) {
        (self.mapping, self.filtered, self.columnType) = (mapping, filtered, columnType)
        columns = Dictionary(mapping.columns.map { ($0.source.lowercased(), $0.column) }, uniquingKeysWith: { first, _ in first })
        references = Set(mapping.columns.compactMap { Self.referenceField(of: $0.source)?.lowercased() })
    }

    /// The rows of `events` (GAP events excepted) and the keys to re-read: records whose change came as a diff,
    /// undeleted ones (an undelete carries no image), updates of rows the table lacks (`known` holds the ones it
    /// has), changes of a relationship a mapped field reads through, and the records gap events name. A filtered
    /// job re-reads every created or updated record, and a created record whose event lacks a mapped field (a
    /// formula or a relationship field: change events carry neither) is re-read rather than blanked.
    func rows(of events: [ChangeEvent], known: Set<String>) -> (rows: [StreamRow], reread: [String]) {
        var known = known
        var rows: [StreamRow] = []
        var reread: [String] = []
        for event in events {
            let stamp = Timestamps.datetime(millis: event.commitTimestamp)
            for id in event.recordIds {
                switch event.changeType {
                case .create where filtered || !carriesEveryColumn(event), .update where filtered:
                    reread.append(id)
                case .create:
                    known.insert(id)
                    rows.append(StreamRow(.create, key: id, modstamp: stamp, values: image(event)))
                case .update:
                    if !known.contains(id) || needsReread(event) { reread.append(id) }
                    if known.contains(id) { rows.append(StreamRow(.update, key: id, modstamp: stamp, values: changes(event))) }
                case .delete, .gapDelete:
                    if event.changeType == .gapDelete { reread.append(id) }
                    if let row = deletion(id, stamp) { rows.append(row) }
                case .undelete, .gapCreate, .gapUpdate, .gapUndelete, .gapOverflow:
                    reread.append(id)
                }
            }
        }
        return (rows, reread)
    }

    /// A CREATE: every mapped column, NULL where the event has no value.
    private func image(_ event: ChangeEvent) -> [String: String?] {
        var values: [String: String?] = Dictionary(uniqueKeysWithValues: mapping.columns.map { ($0.column, nil) })
        for path in paths(event.fields) { if let column = column(forPath: path) { values[column] = text(value(path, event), column) } }
        if let flag = mapping.isDeleted?.column { values[flag] = "false" }
        return values
    }

    /// An UPDATE: the changed columns, NULL for nulled ones; fields sent as a diff are re-read, never written.
    private func changes(_ event: ChangeEvent) -> [String: String?] {
        var values: [String: String?] = [:]
        let diffs = Set(event.diffFields)
        for path in event.changedFields where !diffs.contains(path) {
            for (sub, column) in columnsOf(changed: path, event) { values[column] = text(value(sub, event), column) }
        }
        for path in event.nulledFields {
            for (_, column) in columnsOf(changed: path, event) { values[column] = .some(nil) }
        }
        return values
    }

    /// A DELETE: the row removed (`deletes: hard`), else marked deleted through the mapped `IsDeleted` column.
    private func deletion(_ id: String, _ stamp: String) -> StreamRow? {
        if mapping.deletes == .hard { return StreamRow(.delete, key: id, modstamp: stamp) }
        guard let flag = mapping.isDeleted?.column else { return nil }
        // A delete event carries no fields, yet Salesforce stamps the record's LastModifiedDate with the delete
        // (what `queryAll … WHERE IsDeleted = true AND LastModifiedDate > …` relies on).
        var values: [String: String?] = [flag: "true"]
        if let modified = column(forPath: "LastModifiedDate") { values[modified] = stamp }
        return StreamRow(.update, key: id, modstamp: stamp, values: values)
    }

    /// Whether the event has a field (null or not) for every mapped column.
    private func carriesEveryColumn(_ event: ChangeEvent) -> Bool {
        let carried = Set(paths(event.fields).compactMap(column(forPath:)))
        return mapping.columns.allSatisfy { carried.contains($0.column) }
    }

    /// A diff field the job maps, or a relationship a mapped field reads through (`Account.Name` and `AccountId`).
    private func needsReread(_ event: ChangeEvent) -> Bool {
        if event.diffFields.contains(where: { !columnsOf(changed: $0, event).isEmpty }) { return true }
        return event.changedFields.contains { references.contains($0.lowercased()) }
    }

    /// `Account.Name` → `AccountId`, `Parent__r.Name` → `Parent__c`; nil for a field of the object itself.
    static func referenceField(of source: String) -> String? {
        guard let dot = source.firstIndex(of: ".") else { return nil }
        let relationship = source[..<dot]
        return relationship.hasSuffix("__r") ? relationship.dropLast(3) + "__c" : relationship + "Id"
    }

    /// Every field path of the event: top-level names, and `Parent.Child` for the components of compound fields.
    private func paths(_ fields: [String: AvroValue]) -> [String] {
        fields.flatMap { name, value -> [String] in
            if case .record(let entries) = value { return entries.map { name + "." + $0.name } }
            return [name]
        }
    }

    /// The columns a changed path sets: a field, a component (`MailingAddress.City`), or a whole compound field.
    private func columnsOf(changed path: String, _ event: ChangeEvent) -> [(String, String)] {
        if case .record(let entries)? = event.fields[path] {
            return entries.compactMap { entry in column(forPath: path + "." + entry.name).map { (path + "." + entry.name, $0) } }
        }
        return column(forPath: path).map { [(path, $0)] } ?? []
    }

    private func value(_ path: String, _ event: ChangeEvent) -> AvroValue {
        if let direct = event.fields[path] { return direct }
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        return parts.count == 2 ? event.fields[parts[0]]?[parts[1]] ?? .null : .null
    }

    /// The mapped column of an event field path: `Email`; `Name.FirstName` → `FirstName`; `MailingAddress.City` →
    /// `MailingCity` (Salesforce's component names). The key, modstamp and deleted flag are the event's own.
    func column(forPath path: String) -> String? {
        func mapped(_ source: String) -> String? { columns[source.lowercased()] }
        let parts = path.split(separator: ".", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return mapped(path) }
        let prefix = parts[0].hasSuffix("Address") ? String(parts[0].dropLast("Address".count)) : ""
        return mapped(prefix + parts[1]) ?? mapped(parts[1])
    }

    /// A decoded value as PostgreSQL reads it for `column`: datetimes come as epoch milliseconds, dates as epoch days.
    func text(_ value: AvroValue, _ column: String) -> String? {
        let type = columnType(column)?.lowercased() ?? "text"
        switch value {
        case .null, .map, .record: return nil
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number) where type.hasPrefix("timestamp"):
            return Timestamps.datetime(millis: number)
        case .int(let number) where type == "date":
            // Days, as Salesforce sends dates; liberal: a value too large for days is milliseconds.
            return Timestamps.date(days: abs(number) < 10_000_000 ? number : number / 86_400_000)
        case .int(let number): return String(number)
        case .float(let number): return "\(number)"
        case .double(let number): return "\(number)"
        case .string(let text), .symbol(let text): return text
        case .bytes(let bytes), .fixed(let bytes): return "\\x" + bytes.map { String(format: "%02x", $0) }.joined()
        case .array(let items): return items.compactMap { text($0, column) }.joined(separator: ";")
        }
    }
}
