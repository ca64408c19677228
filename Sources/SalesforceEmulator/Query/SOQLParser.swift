/// Parses `SELECT f, Rel.f FROM Obj [WHERE …] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …] [LIMIT n]` and rejects
/// what Bulk API 2.0 rejects (aggregates, GROUP BY, OFFSET, TYPEOF, subqueries, compound fields, FIELDS()).
struct SOQLParser {
    var tokens: [SOQLToken]
    var offsets: [Int]
    var p = 0
    let snapshot: OrgSnapshot
    /// Emulator time (epoch ms) that date literals such as `TODAY` are relative to, in UTC.
    let now: Int64

    /// Parses `soql`; errors carry Salesforce's `ERROR at Row:r:Column:c` position where there is one.
    static func parse(_ soql: String, snapshot: OrgSnapshot, now: Int64 = 0) throws(SOQLError) -> (SOQLQuery, ObjectTable) {
        do {
            let located = try SOQLLexer.located(soql)
            var parser = SOQLParser(
                tokens: located.map(\.token), offsets: located.map(\.offset), snapshot: snapshot, now: now)
            return try parser.query()
        } catch {
            throw error.located(in: soql)
        }
    }

    init(tokens: [SOQLToken], offsets: [Int], snapshot: OrgSnapshot, now: Int64) {
        self.tokens = tokens
        self.offsets = offsets
        self.snapshot = snapshot
        self.now = now
    }

    var current: SOQLToken { tokens[p] }
    var here: Int { offsets[p] }

    /// `SOQLColumn.resolve` with the error pointing at the path's token.
    func resolve(_ path: String, in table: ObjectTable, at offset: Int) throws(SOQLError) -> SOQLColumn {
        do {
            return try SOQLColumn.resolve(path, in: table)
        } catch {
            var located = error
            if located.offset == nil { located.offset = offset }
            throw located
        }
    }

    func isKeyword(_ word: String) -> Bool {
        if case .word(let w) = current { return w.lowercased() == word }
        return false
    }

    mutating func expectKeyword(_ word: String) throws(SOQLError) {
        guard isKeyword(word) else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        p += 1
    }

    func describe(_ token: SOQLToken) -> String {
        switch token {
        case .word(let w), .number(let w), .temporal(let w), .op(let w): "'\(w)'"
        case .string(let s): "'\(s)'"
        case .comma: "','"
        case .open: "'('"
        case .close: "')'"
        case .end: "<EOF>"
        }
    }

    private mutating func query() throws(SOQLError) -> (SOQLQuery, ObjectTable) {
        try expectKeyword("select")
        var paths: [(String, Int)] = []
        while true {
            guard case .word(let name) = current, name.lowercased() != "from" else {
                if case .open = current {
                    throw SOQLError(code: "API_ERROR", message: "Aggregate Relationships not supported in Bulk Query")
                }
                throw .malformed("unexpected token: \(describe(current))", at: here)
            }
            let pathOffset = here
            p += 1
            if case .open = current {
                let function = name.lowercased()
                if function == "fields" {
                    throw SOQLError(code: "API_ERROR", message: "Selecting compound data not supported in Bulk Query")
                }
                if ["count", "sum", "avg", "min", "max", "count_distinct"].contains(function) {
                    throw SOQLError(code: "API_ERROR", message: "Aggregate queries are not supported in Bulk Query")
                }
                throw .malformed("unexpected token: '('", at: here)
            }
            if name.lowercased() == "typeof" { throw .malformed("TYPEOF is not supported in Bulk Query", at: pathOffset) }
            paths.append((name, pathOffset))
            if case .comma = current { p += 1; continue }
            break
        }
        try expectKeyword("from")
        guard case .word(let objectName) = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        let objectOffset = here
        p += 1
        guard let table = snapshot.table(objectName) else {
            throw SOQLError(
                code: "INVALID_TYPE",
                message: "sObject type '\(objectName)' is not supported. If you are attempting to use a custom "
                    + "object, be sure to append the '__c' after the entity name. Please reference your WSDL or the "
                    + "describe call for the appropriate names.", offset: objectOffset)
        }
        var query = SOQLQuery(object: table.schema.name, columns: [])
        for (path, offset) in paths { query.columns.append(try resolve(path, in: table, at: offset)) }
        if isKeyword("where") {
            p += 1
            query.filter = try disjunction(table)
        }
        if isKeyword("group") {
            throw SOQLError(code: "API_ERROR", message: "GROUP BY is not supported in Bulk Query")
        }
        if isKeyword("order") {
            p += 1
            try expectKeyword("by")
            while true {
                guard case .word(let name) = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
                let column = try resolve(name, in: table, at: here)
                p += 1
                var ascending = true
                if isKeyword("asc") { p += 1 } else if isKeyword("desc") { ascending = false; p += 1 }
                var nullsFirst = ascending
                if isKeyword("nulls") {
                    p += 1
                    if isKeyword("first") { nullsFirst = true } else if isKeyword("last") { nullsFirst = false } else {
                        throw .malformed("unexpected token: \(describe(current))", at: here)
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
                throw .malformed("unexpected token: \(describe(current))", at: here)
            }
            query.limit = limit
            p += 1
        }
        if isKeyword("offset") { throw .malformed("OFFSET is not supported in Bulk Query", at: here) }
        guard case .end = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        return (query, table)
    }

    mutating func disjunction(_ table: ObjectTable) throws(SOQLError) -> SOQLCondition {
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
            guard case .close = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
            p += 1
            return inner
        }
        guard case .word(let name) = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        let operand: SOQLOperand
        if let function = SOQLDateFunction(rawValue: name.lowercased()), case .open = tokens[p + 1] {
            p += 2
            guard case .word(let inner) = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
            let column = try resolve(inner, in: table, at: here)
            let type = column.type(in: table)
            guard type == .date || type == .datetime else {
                throw SOQLError(
                    code: "INVALID_FIELD",
                    message: "\(function.rawValue.uppercased()) cannot be used with field '\(column.header)'"
                        + " of type \(type.rawValue)", offset: here)
            }
            p += 1
            guard case .close = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
            p += 1
            operand = .function(function, column)
        } else {
            operand = .column(try resolve(name, in: table, at: here))
            p += 1
        }
        if isKeyword("like") {
            p += 1
            guard case .string(let pattern) = current else {
                throw .malformed("unexpected token: \(describe(current))", at: here)
            }
            p += 1
            return .like(operand, pattern)
        }
        if isKeyword("includes") || isKeyword("excludes") {
            let excludes = isKeyword("excludes")
            p += 1
            let values = try list { parser throws(SOQLError) -> SOQLLiteral in
                guard case .string(let s) = parser.current else {
                    throw .malformed("unexpected token: \(parser.describe(parser.current))", at: parser.here)
                }
                parser.p += 1
                return .string(s)
            }
            let groups = values.map { literal -> [String] in
                guard case .string(let s) = literal else { return [] }
                return s.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            }
            return .includes(operand, groups, excludes: excludes)
        }
        var negated = false
        if isKeyword("not") {
            p += 1
            guard isKeyword("in") else { throw .malformed("unexpected token: \(describe(current))", at: here) }
            negated = true
        }
        if isKeyword("in") {
            p += 1
            if case .open = current, case .word(let w) = tokens[p + 1], w.lowercased() == "select" {
                throw SOQLError(code: "API_ERROR", message: "Semi-join subqueries are not supported by the emulator")
            }
            let values = try list { parser throws(SOQLError) -> SOQLLiteral in try parser.literal(for: operand, table: table) }
            return .inList(operand, values, negated: negated)
        }
        guard case .op(let text) = current, let op = SOQLOperator(rawValue: text) else {
            throw .malformed("unexpected token: \(describe(current))", at: here)
        }
        p += 1
        let literal = try self.literal(for: operand, table: table)
        return .compare(operand, op, literal)
    }

    /// `( item, item, … )`.
    mutating func list(_ item: (inout SOQLParser) throws(SOQLError) -> SOQLLiteral) throws(SOQLError) -> [SOQLLiteral] {
        guard case .open = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        p += 1
        var values: [SOQLLiteral] = []
        while true {
            values.append(try item(&self))
            if case .comma = current {
                p += 1
                continue
            }
            guard case .close = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
            p += 1
            return values
        }
    }

    mutating func literal(for operand: SOQLOperand, table: ObjectTable) throws(SOQLError) -> SOQLLiteral {
        let column = operand.column
        var type = column.type(in: table)
        if case .function(let function, _) = operand { type = function == .dayOnly ? .date : .double }
        let token = current
        let offset = here
        p += 1
        func mismatch(_ expected: String) -> SOQLError {
            SOQLError(
                code: "INVALID_FIELD",
                message: "value of filter criterion for field '\(column.header)' must be of type \(expected)"
                    + " and should not be enclosed in quotes", offset: offset)
        }
        if case .word(let w) = token {
            let word = w.lowercased()
            switch word {
            case "null": return .null
            case "true", "false":
                guard type == .boolean else { throw mismatch(type.rawValue) }
                return .bool(word == "true")
            default:
                guard type == .date || type == .datetime else {
                    throw .malformed("unexpected token: '\(w)'", at: offset)
                }
                guard let range = DateLiteral.range(w, now: now) else {
                    throw .malformed("unexpected token: '\(w)'", at: offset)
                }
                return .range(start: range.start, end: range.end)
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
        case .id, .reference:
            guard case .string(let s) = token else {
                throw .malformed("unexpected token: \(describe(token))", at: offset)
            }
            // A malformed Id is an error, not a filter that matches nothing (restforce#557, jsforce#684).
            guard let canonical = SalesforceId.canonical(s) else {
                throw SOQLError(code: "INVALID_QUERY_FILTER_OPERATOR", message: "invalid ID field: \(s)", offset: offset)
            }
            return .id(canonical)
        default:
            guard case .string(let s) = token else {
                throw .malformed("unexpected token: \(describe(token))", at: offset)
            }
            return .string(s)
        }
    }
}

/// SOQL date literals (`TODAY`, `LAST_N_DAYS:7`, `THIS_MONTH`, …) as UTC ranges `[start, end)` in epoch ms. Weeks
/// start on Sunday (the en_US locale); quarters are calendar quarters (no custom fiscal year).
enum DateLiteral {
    static func range(_ literal: String, now: Int64) -> (start: Int64, end: Int64)? {
        let day: Int64 = 86_400_000
        let today = now >= 0 ? now / day : -((-now + day - 1) / day)
        let (y, m, _) = Timestamps.civil(days: today)
        let parts = literal.uppercased().split(separator: ":", maxSplits: 1)
        let name = String(parts[0])
        var n: Int64?
        if parts.count == 2 {
            guard let value = Int64(parts[1]), value >= 0 else { return nil }
            n = value
        }
        func days(_ a: Int64, _ b: Int64) -> (Int64, Int64) { (a * day, b * day) }
        func monthStart(_ offset: Int64) -> Int64 {
            let index = y * 12 + (m - 1) + offset
            let year = index >= 0 ? index / 12 : (index - 11) / 12
            return Timestamps.days(year: year, month: index - year * 12 + 1, day: 1)
        }
        func yearStart(_ offset: Int64) -> Int64 { Timestamps.days(year: y + offset, month: 1, day: 1) }
        let weekday = ((today % 7 + 7) % 7 + 4) % 7  // 0 = Sunday
        let weekStart = today - weekday
        let quarter = (m - 1) / 3
        func quarterStart(_ offset: Int64) -> Int64 { monthStart(-(m - 1 - quarter * 3) + offset * 3) }
        switch (name, n) {
        case ("TODAY", nil): return days(today, today + 1)
        case ("YESTERDAY", nil): return days(today - 1, today)
        case ("TOMORROW", nil): return days(today + 1, today + 2)
        case ("LAST_WEEK", nil): return days(weekStart - 7, weekStart)
        case ("THIS_WEEK", nil): return days(weekStart, weekStart + 7)
        case ("NEXT_WEEK", nil): return days(weekStart + 7, weekStart + 14)
        case ("LAST_MONTH", nil): return days(monthStart(-1), monthStart(0))
        case ("THIS_MONTH", nil): return days(monthStart(0), monthStart(1))
        case ("NEXT_MONTH", nil): return days(monthStart(1), monthStart(2))
        case ("LAST_QUARTER", nil): return days(quarterStart(-1), quarterStart(0))
        case ("THIS_QUARTER", nil): return days(quarterStart(0), quarterStart(1))
        case ("NEXT_QUARTER", nil): return days(quarterStart(1), quarterStart(2))
        case ("LAST_YEAR", nil): return days(yearStart(-1), yearStart(0))
        case ("THIS_YEAR", nil): return days(yearStart(0), yearStart(1))
        case ("NEXT_YEAR", nil): return days(yearStart(1), yearStart(2))
        // "This range includes the current day": LAST_N_DAYS:1 is yesterday and today.
        case ("LAST_90_DAYS", nil): return days(today - 90, today + 1)
        case ("LAST_N_DAYS", let k?): return days(today - k, today + 1)
        case ("NEXT_90_DAYS", nil): return days(today + 1, today + 91)
        case ("NEXT_N_DAYS", let k?): return days(today + 1, today + 1 + k)
        case ("N_DAYS_AGO", let k?): return days(today - k, today - k + 1)
        case ("LAST_N_WEEKS", let k?): return days(weekStart - 7 * k, weekStart)
        case ("NEXT_N_WEEKS", let k?): return days(weekStart + 7, weekStart + 7 + 7 * k)
        case ("LAST_N_MONTHS", let k?): return days(monthStart(-k), monthStart(0))
        case ("NEXT_N_MONTHS", let k?): return days(monthStart(1), monthStart(1 + k))
        case ("LAST_N_QUARTERS", let k?): return days(quarterStart(-k), quarterStart(0))
        case ("NEXT_N_QUARTERS", let k?): return days(quarterStart(1), quarterStart(1 + k))
        case ("LAST_N_YEARS", let k?): return days(yearStart(-k), yearStart(0))
        case ("NEXT_N_YEARS", let k?): return days(yearStart(1), yearStart(1 + k))
        default: return nil
        }
    }
}
