/// The change event of each mutation: CREATE and UNDELETE carry every non-null field, UPDATE only the fields whose
/// values changed (`LastModifiedDate` among them), those set to null listed in `nulledFields`, DELETE none (Change
/// Data Capture Developer Guide, "Change Event Body Fields").
extension Org {
    /// The text of record `i`'s event fields that are not null; nil when change events are off.
    func eventValues(_ table: ObjectTable, _ i: Int, _ generator: RecordGenerator) -> [Int: String]? {
        guard changes.enabled, let schema = changes.schemas[table.schema.name.lowercased()] else { return nil }
        var values: [Int: String] = [:]
        for part in schema.slots.flatMap(\.parts) {
            if let value = table.value(part.field, i, generator) { values[part.field] = value }
        }
        return values
    }

    /// Publishes record `i`'s change; `before` holds its event values before an update.
    func publish(
        _ kind: ChangeKind, _ table: ObjectTable, _ i: Int, before: [Int: String]?, _ generator: RecordGenerator,
        at now: Int64
    ) {
        guard changes.enabled else { return }
        let (entity, id) = (table.schema.name, SalesforceId.make(prefix: table.schema.keyPrefix, index: i))
        guard kind != .delete, let after = eventValues(table, i, generator) else {
            return changes.publish(kind, entity: entity, id: id, changed: [], nulled: [], values: [:], at: now)
        }
        guard let before else {
            return changes.publish(kind, entity: entity, id: id, changed: [], nulled: [], values: after, at: now)
        }
        let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
        changes.publish(
            kind, entity: entity, id: id, changed: changed, nulled: changed.filter { after[$0] == nil },
            values: after.filter { changed.contains($0.key) }, at: now)
    }
}
