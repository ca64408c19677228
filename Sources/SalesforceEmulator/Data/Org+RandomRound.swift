extension Org {
    /// One deterministic round of churn, as a benchmark's "day of changes": `inserts` new generated-looking
    /// records, `updates` edits of live records, and deletes/undeletes/hard deletes of random records.
    /// The same `seed` on the same org state picks the same records.
    public func randomRound(
        _ object: String, seed: UInt64, inserts: Int, updates: Int, softDeletes: Int, undeletes: Int, hardDeletes: Int
    ) {
        var rng = SplitMix(state: seed)
        _ = mutate(object) { table, stamp in
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
            let editable = table.schema.fields.indices.filter {
                let field = table.schema.fields[$0]
                return field.updateable && field.type != .address && field.nillable
            }
            for _ in 0..<inserts {
                let i = table.rowCount
                table.insertedCount += 1
                let t = next()
                table.patches[i] = RecordPatch(createdMillis: t, modstampMillis: t, lastModifiedMillis: t)
            }
            func pick(_ wanted: (Int) -> Bool) -> Int? {
                guard table.rowCount > 0 else { return nil }
                for _ in 0..<64 {
                    let i = Int(rng.next() % UInt64(table.rowCount))
                    if !table.hardDeleted.contains(i) && wanted(i) { return i }
                }
                return nil
            }
            for _ in 0..<updates {
                guard let i = pick({ !table.isDeleted($0) }), !editable.isEmpty else { continue }
                var patch = table.patches[i] ?? RecordPatch()
                let f = editable[Int(rng.next() % UInt64(editable.count))]
                let donor = Int(rng.next() % UInt64(max(table.baseCount, 1)))
                patch.values[f] = .some(table.value(f, donor, nil, OrgSnapshot.emptyGenerator(seed: rng.next())))
                let t = next()
                patch.modstampMillis = t
                patch.lastModifiedMillis = t
                table.patches[i] = patch
            }
            for (count, deleted) in [(softDeletes, true), (undeletes, false)] {
                for _ in 0..<count {
                    guard let i = pick({ table.isDeleted($0) != deleted }) else { continue }
                    var patch = table.patches[i] ?? RecordPatch()
                    patch.isDeleted = deleted
                    let t = next()
                    table.deletions[SalesforceId.make(prefix: table.schema.keyPrefix, index: i)] = deleted ? t : nil
                    patch.modstampMillis = t
                    patch.lastModifiedMillis = t
                    table.patches[i] = patch
                }
            }
            for _ in 0..<hardDeletes {
                guard let i = pick({ _ in true }) else { continue }
                let id = SalesforceId.make(prefix: table.schema.keyPrefix, index: i)
                if table.deletions[id] == nil { table.deletions[id] = next() }
                table.patches[i] = nil
                table.hardDeleted.insert(i)
            }
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
