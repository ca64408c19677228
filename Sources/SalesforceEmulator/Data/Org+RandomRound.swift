extension Org {
    /// One deterministic round of churn, as a benchmark's "day of changes": `inserts` new generated-looking
    /// records, `updates` edits of live records, and deletes/undeletes/hard deletes of random records.
    /// The same `seed` on the same org state picks the same records.
    public func randomRound(
        _ object: String, seed: UInt64, inserts: Int, updates: Int, softDeletes: Int, undeletes: Int, hardDeletes: Int
    ) {
        var rng = SplitMix(state: seed)
        _ = mutate(object) { table, stamp, _ in
            // A round is one burst of activity, like a mass update: its changes share the next second, several per
            // millisecond when there are more than a thousand, instead of one millisecond each. At one millisecond
            // each, a 10% round of 10M records stamped them 17 minutes into the future, which sfpg rightly refuses
            // as a watermark. Stamps never decrease, and the next mutation comes after the whole round.
            let changes = max(1, inserts + updates + softDeletes + undeletes + hardDeletes)
            let start = stamp, span = Int64(min(changes, 1_000))
            var made = 0
            func next() -> Int64 {
                made += 1
                stamp = start + Int64(made) * span / Int64(changes)
                return stamp
            }
            table.insertGenerated(inserts, stamp: next)
            table.updateRandom(updates, &rng, stamp: next)
            table.setDeletedRandom(true, count: softDeletes, &rng, stamp: next)
            table.setDeletedRandom(false, count: undeletes, &rng, stamp: next)
            table.hardDeleteRandom(hardDeletes, &rng, stamp: next)
        }
    }
}

/// The steps of a random round, in the order it takes them; `next` gives each change its stamp.
private extension ObjectTable {
    /// A random record, not hard deleted, that `wanted` accepts; nil after 64 misses.
    func pick(_ rng: inout SplitMix, _ wanted: (Int) -> Bool) -> Int? {
        guard rowCount > 0 else { return nil }
        for _ in 0..<64 {
            let i = Int(rng.next() % UInt64(rowCount))
            if !hardDeleted.contains(i) && wanted(i) { return i }
        }
        return nil
    }

    mutating func insertGenerated(_ count: Int, stamp next: () -> Int64) {
        for _ in 0..<count {
            let i = rowCount
            insertedCount += 1
            let t = next()
            patches[i] = RecordPatch(createdMillis: t, modstampMillis: t, lastModifiedMillis: t)
        }
    }

    /// Each update sets one editable field of a live record to a value drawn for another record.
    mutating func updateRandom(_ count: Int, _ rng: inout SplitMix, stamp next: () -> Int64) {
        let editable = schema.fields.indices.filter {
            let field = schema.fields[$0]
            return field.updateable && field.type != .address && field.nillable
        }
        for _ in 0..<count {
            guard let i = pick(&rng, { !isDeleted($0) }), !editable.isEmpty else { continue }
            var patch = patches[i] ?? RecordPatch()
            let f = editable[Int(rng.next() % UInt64(editable.count))]
            let donor = Int(rng.next() % UInt64(max(baseCount, 1)))
            patch.values[f] = .some(value(f, donor, nil, OrgSnapshot.emptyGenerator(seed: rng.next())))
            let t = next()
            patch.modstampMillis = t
            patch.lastModifiedMillis = t
            patches[i] = patch
        }
    }

    /// Soft deletes (`deleted`) or undeletes `count` records that are not already so.
    mutating func setDeletedRandom(_ deleted: Bool, count: Int, _ rng: inout SplitMix, stamp next: () -> Int64) {
        for _ in 0..<count {
            guard let i = pick(&rng, { isDeleted($0) != deleted }) else { continue }
            var patch = patches[i] ?? RecordPatch()
            patch.isDeleted = deleted
            let t = next()
            deletions[SalesforceId.make(prefix: schema.keyPrefix, index: i)] = deleted ? t : nil
            patch.modstampMillis = t
            patch.lastModifiedMillis = t
            patches[i] = patch
        }
    }

    mutating func hardDeleteRandom(_ count: Int, _ rng: inout SplitMix, stamp next: () -> Int64) {
        for _ in 0..<count {
            guard let i = pick(&rng, { _ in true }) else { continue }
            let id = SalesforceId.make(prefix: schema.keyPrefix, index: i)
            if deletions[id] == nil { deletions[id] = next() }
            patches[i] = nil
            hardDeleted.insert(i)
        }
    }
}

/// A small deterministic PRNG (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension OrgSnapshot {
    /// A generator with another seed, to draw fresh values for updated fields.
    static func emptyGenerator(seed: UInt64) -> RecordGenerator { RecordGenerator(seed: seed, counts: [:]) }
}
