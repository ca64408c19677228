/// Aggregate SOQL, for the REST query resource only: `COUNT()`, `COUNT(f)`, `COUNT_DISTINCT(f)`, `MIN`, `MAX`, `SUM`,
/// `AVG`, date functions and fields in `GROUP BY`, aliases, `ORDER BY` over the SELECT items, `LIMIT`.
extension SOQLParser {
    /// Parses a query sent to `/query` or `/queryAll`: aggregate queries there, record queries as for Bulk.
    static func parseREST(_ soql: String, snapshot: OrgSnapshot, now: Int64 = 0) throws(SOQLError) -> SOQLRESTQuery {
        do {
            let located = try SOQLLexer.located(soql)
            let tokens = located.map(\.token)
            guard isAggregate(tokens) else {
                let (query, table) = try parse(soql, snapshot: snapshot, now: now)
                return .records(query, table)
            }
            var parser = SOQLParser(tokens: tokens, offsets: located.map(\.offset), snapshot: snapshot, now: now)
            let (query, table) = try parser.aggregateQuery()
            return .aggregate(query, table)
        } catch {
            throw error.located(in: soql)
        }
    }

    /// An aggregate or date function in the SELECT list, or a GROUP BY clause.
    private static func isAggregate(_ tokens: [SOQLToken]) -> Bool {
        let functions = Set(SOQLAggregateFunction.allCases.map(\.rawValue) + SOQLDateFunction.allCases.map(\.rawValue))
        var inSelect = true
        for k in tokens.indices.dropLast() {
            guard case .word(let w) = tokens[k] else { continue }
            let word = w.lowercased()
            if word == "from" { inSelect = false }
            if inSelect, functions.contains(word), case .open = tokens[k + 1] { return true }
            if word == "group", case .word(let next) = tokens[k + 1], next.lowercased() == "by" { return true }
        }
        return false
    }

    private var atComma: Bool {
        if case .comma = current { return true }
        return false
    }

    /// A SELECT item before the object is known: `f`, `F(f)`, `COUNT()`, each with an optional alias.
    private struct RawItem {
        var function: String?
        var path: String?
        var alias: String?
        var offset: Int
    }

    private mutating func aggregateQuery() throws(SOQLError) -> (SOQLAggregateQuery, ObjectTable) {
        try expectKeyword("select")
        var raw: [RawItem] = []
        repeat {
            if case .comma = current { p += 1 }
            var item = try rawExpression()
            if case .word(let w) = current, w.lowercased() != "from" {
                item.alias = w
                p += 1
            }
            raw.append(item)
        } while atComma
        try expectKeyword("from")
        guard case .word(let objectName) = current, let table = snapshot.table(objectName) else {
            throw SOQLError(code: "INVALID_TYPE", message: "sObject type is not supported.", offset: here)
        }
        p += 1
        var query = SOQLAggregateQuery(object: table.schema.name, items: [])
        if isKeyword("where") {
            p += 1
            query.filter = try disjunction(table)
        }
        if isKeyword("group") {
            p += 1
            try expectKeyword("by")
            repeat {
                if case .comma = current { p += 1 }
                let expression = try rawExpression()
                query.groupBy.append(try groupKey(expression, in: table))
            } while atComma
        }
        if isKeyword("having") { throw .malformed("HAVING is not supported by the emulator", at: here) }
        query.items = try resolveItems(raw, groupBy: query.groupBy, in: table)
        try aggregateTail(&query, raw: raw, table: table)
        return (query, table)
    }

    /// `ORDER BY` (over SELECT items, by expression or alias) and `LIMIT`, then the end of the query.
    private mutating func aggregateTail(_ query: inout SOQLAggregateQuery, raw: [RawItem], table: ObjectTable)
        throws(SOQLError)
    {
        if isKeyword("order") {
            p += 1
            try expectKeyword("by")
            repeat {
                if case .comma = current { p += 1 }
                let offset = here
                let expression = try rawExpression()
                let spelled = { (r: RawItem) in "\(r.function ?? "")(\(r.path ?? ""))".lowercased() }
                guard let k = raw.firstIndex(where: {
                    spelled($0) == spelled(expression) || (expression.function == nil && $0.alias?.lowercased() == expression.path?.lowercased())
                }) else {
                    throw .malformed("Ordered field must be grouped or aggregated: \(expression.path ?? "")", at: offset)
                }
                var ascending = true
                if isKeyword("asc") { p += 1 } else if isKeyword("desc") { ascending = false; p += 1 }
                var nullsFirst = ascending
                if isKeyword("nulls") {
                    p += 1
                    nullsFirst = isKeyword("first")
                    p += 1
                }
                query.orderBy.append((k, ascending, nullsFirst))
            } while atComma
        }
        if let limit = try limitClause() { query.limit = limit }
        guard case .end = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
    }

    private mutating func rawExpression() throws(SOQLError) -> RawItem {
        guard case .word(let name) = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        let offset = here
        p += 1
        guard case .open = current else { return RawItem(path: name, offset: offset) }
        p += 1
        var path: String?
        if case .word(let inner) = current {
            path = inner
            p += 1
        }
        guard case .close = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        p += 1
        return RawItem(function: name.lowercased(), path: path, offset: offset)
    }

    private func groupKey(_ raw: RawItem, in table: ObjectTable) throws(SOQLError) -> SOQLGroupKey {
        guard let path = raw.path else { throw .malformed("unexpected token: ')'", at: raw.offset) }
        let column = try resolve(path, in: table, at: raw.offset)
        guard let name = raw.function else { return SOQLGroupKey(function: nil, column: column) }
        guard let function = SOQLDateFunction(rawValue: name) else {
            throw .malformed("Grouped field should not be aggregated: \(path)", at: raw.offset)
        }
        let type = column.type(in: table)
        guard type == .date || type == .datetime else {
            throw SOQLError(
                code: "INVALID_FIELD",
                message: "\(name.uppercased()) cannot be used with field '\(column.header)' of type \(type.rawValue)",
                offset: raw.offset)
        }
        return SOQLGroupKey(function: function, column: column)
    }

    private func resolveItems(_ raw: [RawItem], groupBy: [SOQLGroupKey], in table: ObjectTable)
        throws(SOQLError) -> [SOQLAggregateItem]
    {
        if raw.count == 1, raw[0].function == "count", raw[0].path == nil { return [] }
        var items: [SOQLAggregateItem] = []
        var unnamed = 0
        func nextName(_ alias: String?) -> String {
            if let alias { return alias }
            defer { unnamed += 1 }
            return "expr\(unnamed)"
        }
        for item in raw {
            if let name = item.function, let function = SOQLAggregateFunction(rawValue: name) {
                guard let path = item.path else {
                    throw .malformed("COUNT() must be the only element in the SELECT list", at: item.offset)
                }
                let column = try resolve(path, in: table, at: item.offset)
                if function == .sum || function == .avg, column.type(in: table).comparison != .numeric {
                    throw SOQLError(
                        code: "INVALID_FIELD",
                        message: "field \(column.header) does not support aggregate operator \(name.uppercased())",
                        offset: item.offset)
                }
                items.append(.aggregate(function, column, name: nextName(item.alias)))
                continue
            }
            let key = try groupKey(item, in: table)
            guard groupBy.contains(where: { $0.signature == key.signature }) else {
                throw .malformed("Field must be grouped or aggregated: \(item.path ?? "")", at: item.offset)
            }
            let fieldName = String(key.column.header.split(separator: ".").last ?? "")
            items.append(.group(key, name: key.function == nil ? item.alias ?? fieldName : nextName(item.alias)))
        }
        return items
    }
}
