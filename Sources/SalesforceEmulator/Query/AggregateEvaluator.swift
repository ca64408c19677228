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

    /// Records the query reads (what a timeout depends on), without listing them when nothing filters them.
    func matchingCount() -> Int {
        query.filter == nil ? plain.source().total : plain.rows().count
    }

    /// The records the query reads, in index order.
    func matchingRows() -> [Int] { plain.rows() }

    /// The answer over `rows`: `totalSize` alone for `COUNT()` with GROUP BY (the number of groups), else one
    /// record per group.
    func records(rows: [Int]) -> (totalSize: Int, records: [JSONValue]) {
        var groups: [[String?]: [Int]] = [:]
        var order: [[String?]] = []
        let hasPatches = !table.patches.isEmpty
        for i in rows {
            let patch = hasPatches ? table.patches[i] : nil
            let key = query.groupBy.map { $0.value(row: i, table: table, snapshot: snapshot, patch: patch) }
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(i)
        }
        // An aggregate without GROUP BY over no records still answers one row (COUNT(Id) = 0).
        if query.groupBy.isEmpty && order.isEmpty { order.append([]); groups[[]] = [] }
        if query.countOnly { return (order.count, []) }
        var results = order.map { key in query.items.map { value(of: $0, key: key, rows: groups[key] ?? []) } }
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

    private func value(of item: SOQLAggregateItem, key: [String?], rows: [Int]) -> Cell {
        switch item {
        case .group(let groupKey, _):
            let k = query.groupBy.firstIndex { $0.signature == groupKey.signature } ?? 0
            let text = key.isEmpty ? nil : key[k]
            return Cell(text: text, json: groupKey.json(text, table: table), type: groupKey.sortType(in: table))
        case .aggregate(let function, let column, _):
            return aggregate(function, column, rows: rows)
        }
    }

    private func aggregate(_ function: SOQLAggregateFunction, _ column: SOQLColumn?, rows: [Int]) -> Cell {
        // COUNT(Id) counts records: an Id is never null, so there is no need to write millions of them.
        if function == .count, case .field(let f, _)? = column, case .id = table.schema.fields[f].recipe {
            return Cell(text: String(rows.count), json: .int(rows.count), type: .int)
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
