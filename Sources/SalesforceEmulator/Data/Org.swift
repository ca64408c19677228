import Foundation
import Synchronization

/// The emulated org's data, for in-process administration by tests and benchmarks. Thread-safe.
///
/// Generated records are a pure function of the configuration's seed; mutations are kept as an overlay. Every
/// mutation except ``setCalculated(_:id:field:value:)`` moves `SystemModstamp` and `LastModifiedDate` to the
/// emulator's "now": server time with millisecond precision, strictly increasing across mutations. Object and field
/// names are case-insensitive; unknown objects or Ids make a mutation a no-op.
public final class Org: Sendable {
    struct State: Sendable {
        /// Any write to the data, however nested, runs the observer: `version` names the data a job reads.
        var snapshot: OrgSnapshot { didSet { version &+= 1 } }
        var version: UInt64 = 0
        var lastStamp: Int64 = 0
        /// How long deleted records stay in the recycle bin (and the delete log) before they are purged.
        var retentionMillis: Int64
    }

    let state: Mutex<State>
    let clock: EmulatorClock
    /// Change Data Capture: the event of every insert, update, delete and undelete (with a Pub/Sub port only).
    let changes: ChangeEventBus

    init(configuration: EmulatorConfiguration, clock: EmulatorClock = EmulatorClock()) {
        let snapshot = OrgSnapshot(configuration: configuration)
        state = Mutex(State(snapshot: snapshot, retentionMillis: Self.millis(configuration.recycleBinRetention)))
        self.clock = clock
        changes = ChangeEventBus(
            objects: snapshot.objectNames.compactMap(snapshot.schema), enabled: configuration.pubSubPort != nil,
            retention: configuration.changeEventRetention, keepalive: configuration.pubSubKeepalive)
    }

    /// A consistent copy of every table, for a query job; records past the recycle bin's retention are purged first.
    func snapshot() -> OrgSnapshot { versionedSnapshot().snapshot }

    /// A snapshot and the version of the data it holds (two snapshots with one version hold the same records).
    func versionedSnapshot() -> (snapshot: OrgSnapshot, version: UInt64) {
        let now = clock.now()
        return state.withLock { state in
            Self.purge(&state, deletedBefore: now - state.retentionMillis, object: nil)
            return (state.snapshot, state.version)
        }
    }

    /// Replaces all data with the generated base of `configuration` (admin reset).
    func reset(configuration: EmulatorConfiguration) {
        state.withLock {
            $0.snapshot = OrgSnapshot(configuration: configuration)
            $0.retentionMillis = Self.millis(configuration.recycleBinRetention)
        }
    }

    /// Inserts a record; fields not given are null. Returns the new 18-character Id.
    @discardableResult
    public func insert(_ object: String, fields: [String: String?]) -> String {
        mutate(object) { table, now, generator in
            let i = table.rowCount
            table.insertedCount += 1
            var patch = RecordPatch(createdMillis: now, modstampMillis: now, lastModifiedMillis: now, blankBase: true)
            Self.apply(fields, to: &patch, schema: table.schema)
            table.patches[i] = patch
            publish(.create, table, i, before: nil, generator, at: now)
            return SalesforceId.make(prefix: table.schema.keyPrefix, index: i)
        } ?? ""
    }

    /// Sets fields of a record (text form as in the CSV; `nil` sets null).
    public func update(_ object: String, id: String, fields: [String: String?]) {
        touch(object, id: id) { patch, schema in Self.apply(fields, to: &patch, schema: schema) }
    }

    /// Moves a record to the recycle bin: `IsDeleted = true`, visible to `queryAll` only.
    public func softDelete(_ object: String, id: String) {
        touch(object, id: id, event: .delete) { patch, _ in patch.isDeleted = true }
        noteDeletion(object, id: id, deleted: true)
    }

    /// Restores a soft-deleted record.
    public func undelete(_ object: String, id: String) {
        touch(object, id: id, event: .undelete) { patch, _ in patch.isDeleted = false }
        noteDeletion(object, id: id, deleted: false)
    }

    /// Removes a record entirely, even from `queryAll`. Only a live record's removal is a change event: emptying the
    /// recycle bin publishes none, as on Salesforce.
    public func hardDelete(_ object: String, id: String) {
        _ = mutate(object) { table, now, _ in
            guard let i = table.index(of: id) else { return }
            if !table.isDeleted(i) { changes.publish(.delete, entity: table.schema.name, id: id, changed: [], nulled: [], values: [:], at: now) }
            table.patches[i] = nil
            table.hardDeleted.insert(i)
            if table.deletions[id] == nil { table.deletions[id] = now }
        }
    }

    /// Changes a field's value without moving `SystemModstamp` (a formula whose inputs live elsewhere changed).
    public func setCalculated(_ object: String, id: String, field: String, value: String?) {
        state.withLock { state in
            guard var table = state.snapshot.table(object), let i = table.index(of: id),
                let f = table.schema.fieldIndex(field)
            else { return }
            table.patches[i, default: RecordPatch()].values[f] = .some(value)
            state.snapshot.tables[object.lowercased()] = table
        }
    }

    /// Schema drift: the field disappears from describe, and SOQL naming it fails with `INVALID_FIELD`.
    public func removeField(_ object: String, field: String) {
        state.withLock { state in
            guard var table = state.snapshot.table(object), let f = table.schema.fieldIndex(field) else { return }
            table.removedFields.insert(f)
            state.snapshot.tables[object.lowercased()] = table
        }
    }

    /// Hides records from the integration user, as a sharing, profile or permission change does: they vanish from
    /// `query` and `queryAll` results (and so from a job's `numberRecordsProcessed`) without any delete, modstamp
    /// change or deleted-records entry. Jobs already run keep their results.
    public func hide(_ object: String, ids: [String]) {
        setHidden(object, ids: ids, hidden: true)
    }

    /// Makes hidden records visible again, unchanged (their `SystemModstamp` does not move).
    public func unhide(_ object: String, ids: [String]) {
        setHidden(object, ids: ids, hidden: false)
    }

    private func setHidden(_ object: String, ids: [String], hidden: Bool) {
        state.withLock { state in
            guard var table = state.snapshot.table(object) else { return }
            for id in ids {
                guard let i = table.index(of: id) else { continue }
                if hidden { table.hidden.insert(i) } else { table.hidden.remove(i) }
            }
            state.snapshot.tables[object.lowercased()] = table
        }
    }

    /// Ids of all records in index order; soft-deleted ones only when `includeDeleted`, hidden ones (see
    /// ``hide(_:ids:)``) unless `includeHidden` is false.
    public func ids(_ object: String, includeDeleted: Bool, includeHidden: Bool = true) -> [String] {
        let snapshot = snapshot()
        guard let table = snapshot.table(object) else { return [] }
        var ids: [String] = []
        for i in 0..<table.rowCount where !table.hardDeleted.contains(i) {
            if !includeDeleted && table.isDeleted(i) { continue }
            if !includeHidden && table.hidden.contains(i) { continue }
            ids.append(SalesforceId.make(prefix: table.schema.keyPrefix, index: i))
        }
        return ids
    }

    /// Rows in index order with the values of `fields`, in the same text form the CSV uses (`nil` = null).
    /// Dotted names (`Account.Name`) resolve through the relationship. Hidden records (see ``hide(_:ids:)``) are
    /// part of the org's data and included unless `includeHidden` is false (what the integration user can see).
    public func truth(
        _ object: String, fields: [String], includeDeleted: Bool, includeHidden: Bool = true
    ) -> [[String?]] {
        let snapshot = snapshot()
        guard let table = snapshot.table(object) else { return [] }
        let columns = fields.compactMap { try? SOQLColumn.resolve($0, in: table) }
        var rows: [[String?]] = []
        for i in 0..<table.rowCount where !table.hardDeleted.contains(i) {
            if !includeDeleted && table.isDeleted(i) { continue }
            if !includeHidden && table.hidden.contains(i) { continue }
            rows.append(columns.map { $0.value(row: i, table: table, snapshot: snapshot) })
        }
        return rows
    }

    private func noteDeletion(_ object: String, id: String, deleted: Bool) {
        state.withLock { state in
            guard var table = state.snapshot.table(object) else { return }
            table.deletions[id] = deleted ? state.lastStamp : nil
            state.snapshot.tables[object.lowercased()] = table
        }
    }

    /// The emulator's "now" for a mutation: emulator-clock milliseconds, strictly increasing.
    private func nextStamp(after last: Int64) -> Int64 {
        max(clock.now(), last + 1)
    }

    /// Runs a change on one table with the next stamp; the body may advance the stamp for several changes.
    func mutate<T>(_ object: String, _ body: (inout ObjectTable, inout Int64, RecordGenerator) -> T) -> T? {
        state.withLock { state in
            let (key, generator) = (object.lowercased(), state.snapshot.generator)
            guard state.snapshot.tables[key] != nil else { return nil }
            var now = nextStamp(after: state.lastStamp)
            // In place: a copy taken out of the dictionary would make every change copy the whole table.
            let result = body(&state.snapshot.tables[key]!, &now, generator)
            state.lastStamp = now
            return result
        }
    }

    /// Applies a change to an existing record's patch, moves its modstamp and publishes its change event.
    private func touch(
        _ object: String, id: String, event: ChangeKind = .update, _ change: (inout RecordPatch, ObjectSchema) -> Void
    ) {
        _ = mutate(object) { table, now, generator in
            guard let i = table.index(of: id) else { return }
            let before = event == .update ? eventValues(table, i, generator) : nil
            var patch = table.patches[i] ?? RecordPatch()
            change(&patch, table.schema)
            patch.modstampMillis = now
            patch.lastModifiedMillis = now
            table.patches[i] = patch
            publish(event, table, i, before: before, generator, at: now)
        }
    }

    static func apply(_ fields: [String: String?], to patch: inout RecordPatch, schema: ObjectSchema) {
        for (name, value) in fields {
            guard let f = schema.fieldIndex(name) else { continue }
            switch schema.fields[f].recipe {
            case .isDeleted: patch.isDeleted = value == "true"
            case .id, .systemModstamp, .lastModifiedDate: continue
            default:
                // Stored as Salesforce would return it: numbers of double-typed fields in Java's form.
                patch.values[f] = .some(schema.fields[f].type.isJavaDouble ? value.map { JavaDouble.format(text: $0) } : value)
            }
        }
    }
}
