extension Org {
    /// Mutates `object` at `perSecond` for `seconds`, each a change event: about 30% creates, 45% updates of one to
    /// three text or picklist fields (one value in ten set to null), 15% soft deletes and 10% undeletes of records it
    /// deleted. Deterministic for a seed and org state. Returns false while another driver runs.
    func drive(_ object: String, perSecond: Double, seconds: Double, seed: UInt64) -> Bool {
        guard perSecond > 0, let table = state.withLock({ $0.snapshot.table(object) }) else { return false }
        let (schema, rows) = (table.schema, table.rowCount)
        let total = Int(perSecond * seconds)
        let editable = schema.fields.filter {
            $0.updateable && $0.nillable && [.string, .phone, .email, .picklist].contains($0.type)
        }
        let required = schema.fields.filter { !$0.nillable && $0.createable && $0.type == .string }.map(\.name)
        return changes.driver.withLock { driver in
            guard driver == nil else { return false }
            driver = Task { [self] in
                var rng = SplitMix(state: seed), count = rows, deleted: [String] = [], gone: Set<String> = []
                let start = ContinuousClock.now
                for n in 0..<total {
                    try? await Task.sleep(until: start + .seconds(Double(n) / perSecond), clock: .continuous)
                    if Task.isCancelled { break }
                    let roll = rng.next() % 100
                    let id = SalesforceId.make(prefix: schema.keyPrefix, index: Int(rng.next() % UInt64(max(count, 1))))
                    if roll < 10, let back = deleted.popLast() {
                        gone.remove(back)
                        undelete(object, id: back)
                    } else if roll < 25, !gone.contains(id) {
                        (deleted, gone) = (deleted + [id], gone.union([id]))
                        softDelete(object, id: id)
                    } else if roll < 55 || editable.isEmpty || gone.contains(id) {
                        insert(object, fields: Dictionary(uniqueKeysWithValues: required.map { ($0, String?.some("Drive \(n)")) }))
                        count += 1
                    } else {
                        var fields: [String: String?] = [:]
                        for _ in 0...(rng.next() % 3) {
                            let field = editable[Int(rng.next() % UInt64(editable.count))]
                            let values = field.picklistValues.isEmpty ? ["Drive \(n)"] : field.picklistValues
                            fields[field.name] = rng.next() % 10 == 0 ? .some(nil) : values[Int(rng.next() % UInt64(values.count))]
                        }
                        update(object, id: id, fields: fields)
                    }
                    changes.state.withLock { $0.driven += 1 }
                }
                changes.driver.withLock { $0 = nil }
            }
            return true
        }
    }
}
