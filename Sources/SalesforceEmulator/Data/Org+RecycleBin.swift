/// The recycle bin and the delete log: soft-deleted records stay there for the retention (Salesforce: 15 days),
/// then are purged for good; an administrator can empty it at once. Purged records vanish from `queryAll` and from
/// getDeleted, whose `earliestDateAvailable` then moves past them so a replicating client knows it lost deletes.
extension Org {
    /// Empties the recycle bin of `object` (every object when nil) now: soft-deleted records are purged, and the
    /// delete log forgets every deletion so far.
    public func purgeRecycleBin(_ object: String? = nil) {
        state.withLock { state in Self.purge(&state, deletedBefore: .max, object: object) }
    }

    /// Changes how long deleted records are kept before they are purged.
    public func setRecycleBinRetention(_ retention: Duration) {
        state.withLock { $0.retentionMillis = Self.millis(retention) }
    }

    static func millis(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000
    }

    /// Purges deletions older than `cutoff` (epoch ms) from the tables of `object`, or of every object.
    static func purge(_ state: inout State, deletedBefore cutoff: Int64, object: String?) {
        let names = object.map { [$0.lowercased()] } ?? Array(state.snapshot.tables.keys)
        for name in names {
            guard let table = state.snapshot.tables[name],
                table.deletions.values.contains(where: { $0 < cutoff })
            else { continue }
            // Only write the table back when something is purged: a write moves the data version.
            state.snapshot.tables[name] = purged(table, before: cutoff)
        }
    }

    private static func purged(_ original: ObjectTable, before cutoff: Int64) -> ObjectTable {
        var table = original
        for (id, deletedAt) in original.deletions where deletedAt < cutoff {
            table.deletions[id] = nil
            table.purgedThrough = max(table.purgedThrough ?? deletedAt, deletedAt)
            guard let i = table.index(of: id), table.isDeleted(i) else { continue }
            table.patches[i] = nil
            table.hardDeleted.insert(i)
        }
        return table
    }
}
