import CivilTime

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
        let paths = try selectPaths()
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
        if isKeyword("order") { try orderBy(&query, table) }
        if let limit = try limitClause() { query.limit = limit }
        if isKeyword("offset") { throw .malformed("OFFSET is not supported in Bulk Query", at: here) }
        guard case .end = current else { throw .malformed("unexpected token: \(describe(current))", at: here) }
        return (query, table)
    }

    /// The SELECT list's field paths, each with its offset, up to `FROM`.
    private mutating func selectPaths() throws(SOQLError) -> [(String, Int)] {
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
            return paths
        }
    }

    /// `ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], …`.
    private mutating func orderBy(_ query: inout SOQLQuery, _ table: ObjectTable) throws(SOQLError) {
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
            return
        }
    }

    /// `LIMIT n`, or nil where the query has none.
    mutating func limitClause() throws(SOQLError) -> Int? {
        guard isKeyword("limit") else { return nil }
        p += 1
        guard case .number(let n) = current, let limit = Int(n), limit >= 0 else {
            throw .malformed("unexpected token: \(describe(current))", at: here)
        }
        p += 1
        return limit
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
