/// Runs an aggregate query over a snapshot: the records a plain query with the same WHERE would return, grouped,
/// aggregated and rendered as `AggregateResult` records.
struct AggregateEvaluator {
    let query: SOQLAggregateQuery
    let table: ObjectTable
    let snapshot: OrgSnapshot
    let includeDeleted: Bool

    private var plain: QueryEvaluator {
        QueryEvaluator(
            query: SOQLQuery(object: query.object, columns: [], filter: query.filter), table: table,
            snapshot: snapshot, includeDeleted: includeDeleted)
    }

    /// Whether the answer is a number alone (`SELECT COUNT()` without GROUP BY), which needs no list of records.
    var isPlainCount: Bool { query.countOnly && query.groupBy.isEmpty }

    /// Records the query reads (what a timeout depends on), without listing them.
    func matchingCount() -> Int {
        guard query.filter != nil else { return plain.source().total }
        var count = 0
        plain.forEachMatch { _ in
            count += 1
            return true
        }
        return count
    }

    /// Whether an aggregate needs the records' values; `COUNT(Id)` and `COUNT()` need only how many there are.
    private var needsRows: Bool {
        query.items.contains { item in
            guard case .aggregate(let function, let column, _) = item else { return false }
            guard function == .count, let column else { return function != .count }
            guard case .field(let f, _) = column, case .id = table.schema.fields[f].recipe else { return true }
            return false
        }
    }

    /// The answer: `totalSize` alone for `COUNT()` with GROUP BY (the number of groups), else one record per group.
    /// Counting keeps a number per group, not a list of its records (a GROUP BY over 10 million records held
    /// 250 MB), looked up once per run of consecutive records with the same key, and a date function of the
    /// modstamp is computed once per day, as consecutive records share their day.
    func records() -> (totalSize: Int, records: [JSONValue]) {
        var groups: [[String?]: (count: Int, rows: [Int])] = [:]
        var order: [[String?]] = []
        let hasPatches = !table.patches.isEmpty, keepRows = needsRows
        // The current run of records with one key, added to its group when the key changes.
        var run: (day: Int64?, key: [String?], count: Int, rows: [Int])?
        func flush() {
            guard let run else { return }
            if groups[run.key] == nil { order.append(run.key) }
            groups[run.key, default: (0, [])].count += run.count
            groups[run.key]?.rows += run.rows
        }
        plain.forEachMatch { i in
            let patch = hasPatches ? table.patches[i] : nil
            let day = dayOfModstampKey(i, patch)
            if day == nil || run?.day != day {
                let key = query.groupBy.map { $0.value(row: i, table: table, snapshot: snapshot, patch: patch) }
                if run?.key != key {
                    flush()
                    run = (day, key, 0, [])
                }
                run?.day = day
            }
            run?.count += 1
            if keepRows { run?.rows.append(i) }
            return true
        }
        flush()
        // An aggregate without GROUP BY over no records still answers one row (COUNT(Id) = 0).
        if query.groupBy.isEmpty && order.isEmpty { order.append([]); groups[[]] = (0, []) }
        if query.countOnly { return (order.count, []) }
        var results = order.map { key in
            query.items.map { value(of: $0, key: key, group: groups[key] ?? (0, [])) }
        }
        sort(&results)
        if let limit = query.limit, results.count > limit { results.removeLast(results.count - limit) }
        return (results.count, results.map(render))
    }

    /// A cell before rendering: text plus the type it sorts and renders as.
    private struct Cell {
        var text: String?
        var json: JSONValue
        var type: FieldType
    }

    /// The day of record `i`'s modstamp when that alone decides its group (one GROUP BY key, a date function of
    /// `SystemModstamp` coarser than the hour); nil otherwise.
    private func dayOfModstampKey(_ i: Int, _ patch: RecordPatch?) -> Int64? {
        guard query.groupBy.count == 1, let function = query.groupBy[0].function, function != .hourInDay,
            case .field(let f, _) = query.groupBy[0].column, let millis = table.modstampMillis(field: f, i, patch)
        else { return nil }
        return millis >= 0 ? millis / 86_400_000 : -((-millis + 86_399_999) / 86_400_000)
    }

    private func value(of item: SOQLAggregateItem, key: [String?], group: (count: Int, rows: [Int])) -> Cell {
        switch item {
        case .group(let groupKey, _):
            let k = query.groupBy.firstIndex { $0.signature == groupKey.signature } ?? 0
            let text = key.isEmpty ? nil : key[k]
            return Cell(text: text, json: groupKey.json(text, table: table), type: groupKey.sortType(in: table))
        case .aggregate(let function, let column, _):
            return aggregate(function, column, group: group)
        }
    }

    private func aggregate(_ function: SOQLAggregateFunction, _ column: SOQLColumn?, group: (count: Int, rows: [Int])) -> Cell {
        let rows = group.rows
        // COUNT(Id) and COUNT() count records: an Id is never null, so there is no need to write millions of them.
        if function == .count, column == nil || !needsRows {
            return Cell(text: String(group.count), json: .int(group.count), type: .int)
        }
        let values = rows.compactMap { column?.value(row: $0, table: table, snapshot: snapshot) }
        let type = column?.type(in: table) ?? .int
        func count(_ n: Int) -> Cell { Cell(text: String(n), json: .int(n), type: .int) }
        func number(_ x: Double?) -> Cell {
            guard let x else { return Cell(text: nil, json: .null, type: .double) }
            return Cell(text: String(x), json: .number(String(x)), type: .double)
        }
        switch function {
        case .count: return count(values.count)
        case .countDistinct: return count(Set(values.map { $0.lowercased() }).count)
        case .sum: return number(values.isEmpty ? nil : values.compactMap(Double.init).reduce(0, +))
        case .avg: return number(values.isEmpty ? nil : values.compactMap(Double.init).reduce(0, +) / Double(values.count))
        case .min, .max:
            let pick = values.min { a, b in
                let order = QueryEvaluator.compare(a, b, type: type)
                return function == .min ? order < 0 : order > 0
            }
            return Cell(text: pick, json: Router.json(pick, type: type), type: type)
        }
    }

    /// ORDER BY when given, else by the grouped values in SELECT order (Salesforce leaves the order unspecified).
    private func sort(_ results: inout [[Cell]]) {
        let keys = query.orderBy.isEmpty
            ? query.items.indices.filter { if case .group = query.items[$0] { true } else { false } }.map { ($0, true, true) }
            : query.orderBy.map { ($0.item, $0.ascending, $0.nullsFirst) }
        results.sort { a, b in
            for (k, ascending, nullsFirst) in keys {
                switch (a[k].text, b[k].text) {
                case (nil, nil): continue
                case (nil, _): return nullsFirst
                case (_, nil): return !nullsFirst
                case (let x?, let y?):
                    let order = QueryEvaluator.compare(x, y, type: a[k].type)
                    if order != 0 { return ascending ? order < 0 : order > 0 }
                }
            }
            return false
        }
    }

    private func render(_ cells: [Cell]) -> JSONValue {
        var members: [(String, JSONValue)] = [("attributes", .object([("type", "AggregateResult")]))]
        for (item, cell) in zip(query.items, cells) { members.append((item.name, cell.json)) }
        return .object(members)
    }
}
