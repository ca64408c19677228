import CivilTime

/// Selects the rows a query returns from a snapshot: visibility (query vs queryAll), WHERE, ORDER BY, LIMIT.
struct QueryEvaluator {
    let query: SOQLQuery
    let table: ObjectTable
    let snapshot: OrgSnapshot
    let includeDeleted: Bool

    /// The rows in output order, without listing them when nothing filters or orders them.
    func source() -> RowSource {
        guard query.filter == nil, query.orderBy.isEmpty else { return .list(rows().map { UInt32(truncatingIfNeeded: $0) }) }
        var excluded = Set(table.hardDeleted).union(table.hidden)
        if !includeDeleted {
            for (i, patch) in table.patches where patch.isDeleted { excluded.insert(i) }
        }
        return .allExcept(
            count: table.rowCount, excluded: excluded.filter { $0 < table.rowCount }.sorted(),
            limit: query.limit ?? Int.max)
    }

    /// Calls `body` with each record the filter selects, in index order, until it returns false; no ORDER BY or
    /// LIMIT (aggregates count millions of records without listing them).
    func forEachMatch(_ body: (Int) -> Bool) {
        let hasPatches = !table.patches.isEmpty
        /// Whether to go on after row `i`.
        func visit(_ i: Int) -> Bool {
            if !table.hardDeleted.isEmpty && table.hardDeleted.contains(i) { return true }
            if !table.hidden.isEmpty && table.hidden.contains(i) { return true }
            let patch = hasPatches ? table.patches[i] : nil
            if !includeDeleted && patch?.isDeleted == true { return true }
            if let filter = query.filter, !matches(filter, row: i, patch: patch) { return true }
            return body(i)
        }
        if let candidates = query.filter.flatMap(idCandidates) {
            for i in candidates where !visit(i) { break }
        } else {
            for i in 0..<table.rowCount where !visit(i) { break }
        }
    }

    /// Row indices in output order.
    func rows() -> [Int] {
        var rows: [Int] = []
        if query.limit == 0 { return rows }
        forEachMatch { i in
            rows.append(i)
            return !(query.orderBy.isEmpty && query.limit.map { rows.count >= $0 } == true)
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

    /// The rows a filter can match when it pins the record's own `Id` (`Id = …`, `Id IN (…)`, under AND or OR),
    /// in index order; nil when it does not. Salesforce finds such records by index: a scan of 10 million records
    /// per `Id IN` batch made verify's key checks cost minutes here. The full filter still decides each candidate.
    private func idCandidates(_ condition: SOQLCondition) -> [Int]? {
        func ids(_ operand: SOQLOperand, _ literals: [SOQLLiteral]) -> [Int]? {
            guard case .column(.field(let f, _)) = operand, case .id = table.schema.fields[f].recipe else { return nil }
            var found: [Int] = []
            for literal in literals {
                guard case .id(let id) = literal else { return nil }
                if let i = SalesforceId.parse(id), i.prefix == table.schema.keyPrefix, i.index < table.rowCount { found.append(i.index) }
            }
            return Array(Set(found)).sorted()
        }
        switch condition {
        case .compare(let operand, .eq, let literal): return ids(operand, [literal])
        case .inList(let operand, let literals, negated: false): return ids(operand, literals)
        case .and(let l, let r):
            guard let a = idCandidates(l) else { return idCandidates(r) }
            guard let b = idCandidates(r) else { return a }
            return a.filter(Set(b).contains)
        case .or(let l, let r):
            guard let a = idCandidates(l), let b = idCandidates(r) else { return nil }
            return Array(Set(a).union(b)).sorted()
        default: return nil
        }
    }

    private func matches(_ condition: SOQLCondition, row i: Int, patch: RecordPatch?) -> Bool {
        switch condition {
        case .and(let l, let r): return matches(l, row: i, patch: patch) && matches(r, row: i, patch: patch)
        case .or(let l, let r): return matches(l, row: i, patch: patch) || matches(r, row: i, patch: patch)
        case .not(let c): return !matches(c, row: i, patch: patch)
        case .compare(.column(.field(let f, _)), let op, .datetime(let ms))
        where table.modstampMillis(field: f, i, patch) != nil:
            let v = table.modstampMillis(field: f, i, patch) ?? 0
            return Self.evaluate(order: v < ms ? -1 : (v > ms ? 1 : 0), op)
        case .compare(let operand, let op, let literal):
            return Self.evaluate(value(operand, row: i, patch: patch), op, literal)
        case .inList(let operand, let literals, let negated):
            let v = value(operand, row: i, patch: patch)
            // NOT IN never matches null, like every comparison with null except `= null`.
            if negated && v == nil { return false }
            let found = literals.contains { Self.evaluate(v, .eq, $0) }
            return negated ? !found : found
        case .like(let operand, let pattern):
            guard case .text(let text)? = value(operand, row: i, patch: patch) else { return false }
            return Self.like(text, pattern)
        case .includes(let operand, let groups, let excludes):
            guard case .text(let text)? = value(operand, row: i, patch: patch) else { return excludes }
            let selected = Set(text.split(separator: ";").map { $0.lowercased() })
            let any = groups.contains { group in group.allSatisfy { selected.contains($0.lowercased()) } }
            return excludes ? !any : any
        }
    }

    /// The left-hand value: field text, or a date function's result.
    private func value(_ operand: SOQLOperand, row i: Int, patch: RecordPatch?) -> Operand? {
        let text = operand.column.value(row: i, table: table, snapshot: snapshot, patch: .some(patch))
        guard let text else { return nil }
        switch operand {
        case .column: return .text(text)
        case .function(let function, _):
            switch function.apply(text) {
            case .number(let n)?: return .text(JavaDouble.format(n))
            case .date(let days)?: return .text(Timestamps.date(days: days))
            case nil: return nil
            }
        }
    }

    enum Operand { case text(String) }

    static func evaluate(_ operand: Operand?, _ op: SOQLOperator, _ literal: SOQLLiteral) -> Bool {
        switch operand {
        case .text(let text)?: evaluate(text, op, literal)
        case nil: evaluate(nil as String?, op, literal)
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
        case .id(let id):
            // Ids compare case-sensitively in their 18-character form (a 15-character literal was extended).
            order = value < id ? -1 : (value > id ? 1 : 0)
        case .range(let start, let end):
            guard let v = Timestamps.parseDatetime(value) ?? Timestamps.parseDate(value).map({ $0 * 86_400_000 }) else {
                return false
            }
            // A date literal is a range: `=` is inside, `<` before its start, `>` after its end.
            switch op {
            case .eq: return v >= start && v < end
            case .ne: return !(v >= start && v < end)
            case .lt: return v < start
            case .le: return v < end
            case .gt: return v >= end
            case .ge: return v >= start
            }
        case .string(let s):
            // SOQL text comparison is case-insensitive.
            let l = value.lowercased(), r = s.lowercased()
            order = l < r ? -1 : (l > r ? 1 : 0)
        }
        return evaluate(order: order, op)
    }

    static func evaluate(order: Int, _ op: SOQLOperator) -> Bool {
        switch op {
        case .eq: order == 0
        case .ne: order != 0
        case .lt: order < 0
        case .le: order <= 0
        case .gt: order > 0
        case .ge: order >= 0
        }
    }

    /// SOQL LIKE: `%` matches any run, `_` one character, `\` escapes the next; case-insensitive.
    static func like(_ text: String, _ pattern: String) -> Bool {
        enum Piece { case any, one, literal(Character) }
        var pieces: [Piece] = []
        var escaped = false
        for c in pattern {
            if escaped {
                pieces.append(.literal(c.lowercased().first ?? c))
                escaped = false
            } else if c == "\\" {
                escaped = true
            } else if c == "%" {
                pieces.append(.any)
            } else if c == "_" {
                pieces.append(.one)
            } else {
                pieces.append(.literal(c.lowercased().first ?? c))
            }
        }
        let chars = Array(text.lowercased())
        // Dynamic programming over (piece, character) positions.
        var reachable = [Bool](repeating: false, count: chars.count + 1)
        reachable[0] = true
        for piece in pieces {
            var next = [Bool](repeating: false, count: chars.count + 1)
            switch piece {
            case .any:
                var seen = false
                for k in 0...chars.count {
                    seen = seen || reachable[k]
                    next[k] = seen
                }
            case .one:
                for k in 0..<chars.count where reachable[k] { next[k + 1] = true }
            case .literal(let c):
                for k in 0..<chars.count where reachable[k] && chars[k] == c { next[k + 1] = true }
            }
            reachable = next
        }
        return reachable[chars.count]
    }

    static func compare(_ a: String, _ b: String, type: FieldType) -> Int {
        if type.comparison == .numeric, let x = Double(a), let y = Double(b) { return x < y ? -1 : (x > y ? 1 : 0) }
        // Our datetime and date text sorts chronologically as text.
        let l = a.lowercased(), r = b.lowercased()
        return l < r ? -1 : (l > r ? 1 : 0)
    }
}
