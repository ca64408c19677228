/// Parses `SELECT f, Rel.f FROM Obj [WHERE …] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n]` and rejects
/// what Bulk API 2.0 rejects (aggregates, GROUP BY, OFFSET, TYPEOF, subqueries, compound fields, FIELDS()).
struct SOQLParser {
    private var tokens: [SOQLToken]
    private var p = 0
    private let snapshot: OrgSnapshot

    static func parse(_ soql: String, snapshot: OrgSnapshot) throws(SOQLError) -> (SOQLQuery, ObjectTable) {
        var parser = SOQLParser(tokens: try SOQLLexer.tokens(soql), snapshot: snapshot)
        return try parser.query()
    }

    private init(tokens: [SOQLToken], snapshot: OrgSnapshot) {
        self.tokens = tokens
        self.snapshot = snapshot
    }

    private var current: SOQLToken { tokens[p] }

    private func isKeyword(_ word: String) -> Bool {
        if case .word(let w) = current { return w.lowercased() == word }
        return false
    }

    private mutating func expectKeyword(_ word: String) throws(SOQLError) {
        guard isKeyword(word) else { throw .malformed("unexpected token: \(describe(current)), expected \(word.uppercased())") }
        p += 1
    }

    private func describe(_ token: SOQLToken) -> String {
        switch token {
        case .word(let w), .number(let w), .temporal(let w), .op(let w): "'\(w)'"
        case .string(let s): "'\(s)'"
        case .comma: "','"
        case .open: "'('"
        case .close: "')'"
        case .end: "end of query"
        }
    }

    private mutating func query() throws(SOQLError) -> (SOQLQuery, ObjectTable) {
        try expectKeyword("select")
        var paths: [String] = []
        while true {
            guard case .word(let name) = current, name.lowercased() != "from" else {
                if case .open = current {
                    throw SOQLError(code: "API_ERROR", message: "Aggregate Relationships not supported in Bulk Query")
                }
                throw .malformed("unexpected token: \(describe(current))")
            }
            p += 1
            if case .open = current {
                let function = name.lowercased()
                if function == "fields" {
                    throw SOQLError(code: "API_ERROR", message: "Selecting compound data not supported in Bulk Query")
                }
                if ["count", "sum", "avg", "min", "max", "count_distinct"].contains(function) {
                    throw SOQLError(code: "API_ERROR", message: "Aggregate queries are not supported in Bulk Query")
                }
                throw .malformed("unexpected token: '('")
            }
            if name.lowercased() == "typeof" { throw .malformed("TYPEOF is not supported in Bulk Query") }
            paths.append(name)
            if case .comma = current { p += 1; continue }
            break
        }
        try expectKeyword("from")
        guard case .word(let objectName) = current else { throw .malformed("unexpected token: \(describe(current))") }
        p += 1
        guard let table = snapshot.table(objectName) else {
            throw SOQLError(
                code: "INVALID_TYPE",
                message: "sObject type '\(objectName)' is not supported. If you are attempting to use a custom "
                    + "object, be sure to append the '__c' after the entity name.")
        }
        var query = SOQLQuery(object: table.schema.name, columns: [])
        for path in paths { query.columns.append(try SOQLColumn.resolve(path, in: table)) }
        if isKeyword("where") {
            p += 1
            query.filter = try disjunction(table)
        }
        if isKeyword("group") { throw SOQLError(code: "API_ERROR", message: "GROUP BY is not supported in Bulk Query") }
        if isKeyword("order") {
            p += 1
            try expectKeyword("by")
            while true {
                guard case .word(let name) = current else { throw .malformed("unexpected token: \(describe(current))") }
                p += 1
                let column = try SOQLColumn.resolve(name, in: table)
                var ascending = true
                if isKeyword("asc") { p += 1 } else if isKeyword("desc") { ascending = false; p += 1 }
                var nullsFirst = ascending
                if isKeyword("nulls") {
                    p += 1
                    if isKeyword("first") { nullsFirst = true } else if isKeyword("last") { nullsFirst = false } else {
                        throw .malformed("unexpected token: \(describe(current))")
                    }
                    p += 1
                }
                query.orderBy.append((column, ascending, nullsFirst))
                if case .comma = current { p += 1; continue }
                break
            }
        }
        if isKeyword("limit") {
            p += 1
            guard case .number(let n) = current, let limit = Int(n), limit >= 0 else {
                throw .malformed("LIMIT must be a non-negative integer")
            }
            query.limit = limit
            p += 1
        }
        if isKeyword("offset") { throw .malformed("OFFSET is not supported in Bulk Query") }
        guard case .end = current else { throw .malformed("unexpected token: \(describe(current))") }
        return (query, table)
    }

    private mutating func disjunction(_ table: ObjectTable) throws(SOQLError) -> SOQLCondition {
        var left = try conjunction(table)
        while isKeyword("or") {
            p += 1
            left = .or(left, try conjunction(table))
        }
        return left
    }

    private mutating func conjunction(_ table: ObjectTable) throws(SOQLError) -> SOQLCondition {
        var left = try primary(table)
        while isKeyword("and") {
            p += 1
            left = .and(left, try primary(table))
        }
        return left
    }

    private mutating func primary(_ table: ObjectTable) throws(SOQLError) -> SOQLCondition {
        if isKeyword("not") {
            p += 1
            return .not(try primary(table))
        }
        if case .open = current {
            p += 1
            if isKeyword("select") {
                throw SOQLError(code: "API_ERROR", message: "Aggregate Relationships not supported in Bulk Query")
            }
            let inner = try disjunction(table)
            guard case .close = current else { throw .malformed("unexpected token: \(describe(current)), expected ')'") }
            p += 1
            return inner
        }
        guard case .word(let name) = current else { throw .malformed("unexpected token: \(describe(current))") }
        p += 1
        let column = try SOQLColumn.resolve(name, in: table)
        guard case .op(let text) = current, let op = SOQLOperator(rawValue: text) else {
            throw .malformed("unexpected token: \(describe(current)), expected a comparison operator")
        }
        p += 1
        let literal = try self.literal(for: column, table: table)
        return .compare(column, op, literal)
    }

    private mutating func literal(for column: SOQLColumn, table: ObjectTable) throws(SOQLError) -> SOQLLiteral {
        let type = column.type(in: table)
        let token = current
        p += 1
        func mismatch(_ expected: String) -> SOQLError {
            SOQLError(
                code: "INVALID_FIELD",
                message: "value of filter criterion for field '\(column.header)' must be of type \(expected)"
                    + " and should not be enclosed in quotes")
        }
        if case .word(let w) = token {
            switch w.lowercased() {
            case "null": return .null
            case "true", "false":
                guard type == .boolean else { throw mismatch(type.rawValue) }
                return .bool(w.lowercased() == "true")
            default: throw .malformed("unexpected token: '\(w)'")
            }
        }
        switch type {
        case .datetime:
            guard case .temporal(let t) = token, let ms = Timestamps.parseDatetime(t) else { throw mismatch("dateTime") }
            return .datetime(ms)
        case .date:
            guard case .temporal(let t) = token, let days = Timestamps.parseDate(t) else { throw mismatch("date") }
            return .date(days)
        case .int, .long, .double, .currency, .percent:
            guard case .number(let n) = token, let v = Double(n) else { throw mismatch(type.rawValue) }
            return .number(v)
        case .boolean:
            throw mismatch("boolean")
        default:
            guard case .string(let s) = token else {
                throw .malformed("unexpected token: \(describe(token)); string values must be in single quotes")
            }
            return .string(s)
        }
    }
}
