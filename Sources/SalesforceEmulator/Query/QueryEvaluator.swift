/// Selects the rows a query returns from a snapshot: visibility (query vs queryAll), WHERE, ORDER BY, LIMIT.
struct QueryEvaluator {
    let query: SOQLQuery
    let table: ObjectTable
    let snapshot: OrgSnapshot
    let includeDeleted: Bool

    /// Row indices in output order.
    func rows() -> [Int] {
        var rows: [Int] = []
        let hasPatches = !table.patches.isEmpty
        for i in 0..<table.rowCount {
            if !table.hardDeleted.isEmpty && table.hardDeleted.contains(i) { continue }
            if !table.hidden.isEmpty && table.hidden.contains(i) { continue }
            let patch = hasPatches ? table.patches[i] : nil
            if !includeDeleted && patch?.isDeleted == true { continue }
            if let filter = query.filter, !matches(filter, row: i, patch: patch) { continue }
            rows.append(i)
            if query.orderBy.isEmpty, let limit = query.limit, rows.count >= limit { break }
        }
        if !query.orderBy.isEmpty {
            let keys = query.orderBy.map { order in
                (values: rows.map { order.column.value(row: $0, table: table, snapshot: snapshot) },
                 type: order.column.type(in: table), ascending: order.ascending, nullsFirst: order.nullsFirst)
            }
            var positions = Array(rows.indices)
            positions.sort { a, b in
                for key in keys {
                    switch (key.values[a], key.values[b]) {
                    case (nil, nil): continue
                    case (nil, _): return key.nullsFirst
                    case (_, nil): return !key.nullsFirst
                    case (let x?, let y?):
                        let order = Self.compare(x, y, type: key.type)
                        if order != 0 { return key.ascending ? order < 0 : order > 0 }
                    }
                }
                return a < b
            }
            rows = positions.map { rows[$0] }
            if let limit = query.limit, rows.count > limit { rows.removeLast(rows.count - limit) }
        }
        return rows
    }

    private func matches(_ condition: SOQLCondition, row i: Int, patch: RecordPatch?) -> Bool {
        switch condition {
        case .and(let l, let r): return matches(l, row: i, patch: patch) && matches(r, row: i, patch: patch)
        case .or(let l, let r): return matches(l, row: i, patch: patch) || matches(r, row: i, patch: patch)
        case .not(let c): return !matches(c, row: i, patch: patch)
        case .compare(let column, let op, let literal):
            let value = column.value(row: i, table: table, snapshot: snapshot, patch: .some(patch))
            return Self.evaluate(value, op, literal)
        }
    }

    static func evaluate(_ value: String?, _ op: SOQLOperator, _ literal: SOQLLiteral) -> Bool {
        if case .null = literal {
            switch op {
            case .eq: return value == nil
            case .ne: return value != nil
            default: return false
            }
        }
        guard let value else { return op == .ne }
        let order: Int
        switch literal {
        case .null: return false
        case .bool(let b): order = (value == "true") == b ? 0 : 1
        case .number(let n):
            guard let v = Double(value) else { return false }
            order = v < n ? -1 : (v > n ? 1 : 0)
        case .datetime(let ms):
            guard let v = Timestamps.parseDatetime(value) else { return false }
            order = v < ms ? -1 : (v > ms ? 1 : 0)
        case .date(let days):
            guard let v = Timestamps.parseDate(value) else { return false }
            order = v < days ? -1 : (v > days ? 1 : 0)
        case .string(let s):
            // SOQL text comparison is case-insensitive.
            let l = value.lowercased(), r = s.lowercased()
            order = l < r ? -1 : (l > r ? 1 : 0)
        }
        switch op {
        case .eq: return order == 0
        case .ne: return order != 0
        case .lt: return order < 0
        case .le: return order <= 0
        case .gt: return order > 0
        case .ge: return order >= 0
        }
    }

    static func compare(_ a: String, _ b: String, type: FieldType) -> Int {
        if type.comparison == .numeric, let x = Double(a), let y = Double(b) { return x < y ? -1 : (x > y ? 1 : 0) }
        // Our datetime and date text sorts chronologically as text.
        let l = a.lowercased(), r = b.lowercased()
        return l < r ? -1 : (l > r ? 1 : 0)
    }
}
