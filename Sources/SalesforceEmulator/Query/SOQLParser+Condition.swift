import CivilTime

/// WHERE conditions: `OR` over `AND` over comparisons, `LIKE`, `IN`, `INCLUDES`/`EXCLUDES`, `NOT` and parentheses.
extension SOQLParser {
    mutating func disjunction(_ table: ObjectTable) throws(SOQLError) -> SOQLCondition {
        try chain("or", SOQLCondition.or) { parser throws(SOQLError) in try parser.conjunction(table) }
    }

    private mutating func conjunction(_ table: ObjectTable) throws(SOQLError) -> SOQLCondition {
        try chain("and", SOQLCondition.and) { parser throws(SOQLError) in try parser.primary(table) }
    }

    /// `operand (keyword operand)*`, grouped to the left.
    private mutating func chain(
        _ keyword: String, _ combine: (SOQLCondition, SOQLCondition) -> SOQLCondition,
        _ operand: (inout SOQLParser) throws(SOQLError) -> SOQLCondition
    ) throws(SOQLError) -> SOQLCondition {
        var left = try operand(&self)
        while isKeyword(keyword) {
            p += 1
            left = combine(left, try operand(&self))
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
        let operand = try conditionOperand(table)
        if isKeyword("like") {
            p += 1
            guard case .string(let pattern) = current else {
                throw .malformed("unexpected token: \(describe(current))", at: here)
            }
            p += 1
            return .like(operand, pattern)
        }
        if isKeyword("includes") || isKeyword("excludes") { return try includes(operand) }
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

    /// A condition's left side: a field, or a date function of a date or datetime field (`CALENDAR_YEAR(f)`).
    private mutating func conditionOperand(_ table: ObjectTable) throws(SOQLError) -> SOQLOperand {
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
        return operand
    }

    /// `INCLUDES ('a;b', 'c')` or `EXCLUDES (…)`: each string a group of multi-select values that must all match.
    private mutating func includes(_ operand: SOQLOperand) throws(SOQLError) -> SOQLCondition {
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
