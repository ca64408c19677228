import CivilTime

/// A REST aggregate query: `SELECT COUNT() FROM …`, or aggregate functions and grouped expressions
/// (`SELECT CALENDAR_YEAR(SystemModstamp) y, COUNT(Id) FROM Contact GROUP BY CALENDAR_YEAR(SystemModstamp)`).
/// Bulk API 2.0 rejects all of these; only the REST query resource answers them.
struct SOQLAggregateQuery: Sendable {
    var object: String
    /// Empty for `SELECT COUNT()`, whose answer is `totalSize` alone.
    var items: [SOQLAggregateItem]
    var filter: SOQLCondition?
    var groupBy: [SOQLGroupKey] = []
    /// Sort keys as indices into `items`.
    var orderBy: [(item: Int, ascending: Bool, nullsFirst: Bool)] = []
    var limit: Int?

    var countOnly: Bool { items.isEmpty }
}

enum SOQLAggregateFunction: String, Sendable, CaseIterable {
    case count, countDistinct = "count_distinct", min, max, sum, avg
}

/// A GROUP BY expression: a field, or a date function of a date or datetime field.
struct SOQLGroupKey: Sendable {
    var function: SOQLDateFunction?
    var column: SOQLColumn

    /// Identifies the expression whatever its spelling, so a SELECT item can be matched to its GROUP BY key.
    var signature: String {
        let name = column.header.lowercased()
        return function.map { "\($0.rawValue)(\(name))" } ?? name
    }

    /// The key's value for a record in text form: the field's value, a date function's number, or `YYYY-MM-DD`.
    func value(row i: Int, table: ObjectTable, snapshot: OrgSnapshot, patch: RecordPatch?) -> String? {
        if let function, case .field(let f, _) = column, let millis = table.modstampMillis(field: f, i, patch) {
            switch function.apply(millis: millis) {
            case .number(let n): return String(Int(n))
            case .date(let days): return Timestamps.date(days: days)
            }
        }
        guard let text = column.value(row: i, table: table, snapshot: snapshot) else { return nil }
        guard let function else { return text }
        switch function.apply(text) {
        case .number(let n)?: return String(Int(n))
        case .date(let days)?: return Timestamps.date(days: days)
        case nil: return nil
        }
    }

    /// The key's value as REST JSON: date functions give integers (`DAY_ONLY` a date), fields their own type.
    func json(_ value: String?, table: ObjectTable) -> JSONValue {
        guard let value else { return .null }
        switch function {
        case nil: return Router.json(value, type: column.type(in: table))
        case .dayOnly?: return .string(value)
        case _?: return .number(value)
        }
    }

    /// How the value sorts: numbers for date functions other than `DAY_ONLY`, else the field's own type.
    func sortType(in table: ObjectTable) -> FieldType {
        switch function {
        case nil: column.type(in: table)
        case .dayOnly?: .date
        case _?: .int
        }
    }
}

/// One SELECT item of an aggregate query, with the name its value has in the `AggregateResult` record: its alias,
/// else the field's name for a grouped field, else `expr0`, `expr1`, … in order among the unaliased expressions.
enum SOQLAggregateItem: Sendable {
    /// `COUNT(Id)`, `MAX(Amount)`, …; `column` is nil only for `COUNT()`.
    case aggregate(SOQLAggregateFunction, SOQLColumn?, name: String)
    case group(SOQLGroupKey, name: String)

    var name: String {
        switch self {
        case .aggregate(_, _, let name), .group(_, let name): name
        }
    }
}

/// What the REST query resource runs: records, or an aggregate query.
enum SOQLRESTQuery {
    case records(SOQLQuery, ObjectTable)
    case aggregate(SOQLAggregateQuery, ObjectTable)
}
