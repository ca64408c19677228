import CivilTime

/// A parsed Bulk-compatible SOQL query.
struct SOQLQuery: Sendable {
    var object: String
    var columns: [SOQLColumn]
    var filter: SOQLCondition?
    var orderBy: [(column: SOQLColumn, ascending: Bool, nullsFirst: Bool)] = []
    var limit: Int?
}

/// A SOQL error as Salesforce reports it: a 400 with `[{"errorCode":…,"message":…}]`.
struct SOQLError: Error, Sendable {
    var code: String
    var message: String
    /// Byte offset in the query of the token the error points at; the parser turns it into Salesforce's
    /// `ERROR at Row:r:Column:c` form.
    var offset: Int? = nil

    static func malformed(_ message: String, at offset: Int? = nil) -> SOQLError {
        SOQLError(code: "MALFORMED_QUERY", message: message, offset: offset)
    }

    /// The message with Salesforce's query echo, caret and position, e.g.
    /// `"\nSELECT Id FROM Contact WHERE Id = 'abc'\n                                 ^\nERROR at Row:1:Column:34\ninvalid ID field: abc"`.
    func located(in soql: String) -> SOQLError {
        guard let offset else { return self }
        let bytes = Array(soql.utf8)
        let clamped = min(max(0, offset), bytes.count)
        let before = bytes[..<clamped]
        let row = before.filter { $0 == 10 }.count + 1
        let lineStart = before.lastIndex(of: 10).map { $0 + 1 } ?? 0
        let lineEnd = bytes[lineStart...].firstIndex(of: 10) ?? bytes.count
        let line = String(decoding: bytes[lineStart..<lineEnd], as: UTF8.self)
        let column = String(decoding: bytes[lineStart..<clamped], as: UTF8.self).count + 1
        let caret = String(repeating: " ", count: column - 1) + "^"
        return SOQLError(
            code: code, message: "\n\(line)\n\(caret)\nERROR at Row:\(row):Column:\(column)\n\(message)", offset: nil)
    }
}

/// A selected or filtered column: a field of the queried object, or a field reached through up to five
/// child-to-parent relationships (`Account.Owner.Manager.Name`).
enum SOQLColumn: Sendable {
    case field(index: Int, header: String)
    /// `hops[k]` is the reference field (index) in `objects[k]`; `objects[0]` is the queried object and the last
    /// hop leads to the object that has `field`.
    case parent(hops: [Int], objects: [String], field: String, header: String)

    var header: String {
        switch self {
        case .field(_, let header), .parent(_, _, _, let header): header
        }
    }

    /// SOQL allows child-to-parent paths of at most five relationships.
    static let maxRelationshipLevels = 5

    /// Resolves `Name` or `Account.Owner.Name` (case-insensitive) against a table; headers get canonical names.
    static func resolve(_ path: String, in table: ObjectTable) throws(SOQLError) -> SOQLColumn {
        let schema = table.schema
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 {
            guard let f = schema.fieldIndex(path), !table.removedFields.contains(f) else {
                throw noSuchColumn(path, on: schema.name)
            }
            if schema.fields[f].isCompound {
                throw SOQLError(code: "API_ERROR", message: "Selecting compound data not supported in Bulk Query")
            }
            return .field(index: f, header: schema.fields[f].name)
        }
        guard parts.count - 1 <= maxRelationshipLevels else {
            throw .malformed("SOQL statements cannot query relationships that are more than 5 levels away")
        }
        var current = schema
        var hops: [Int] = []
        var objects: [String] = [schema.name]
        var headerParts: [String] = []
        for relationship in parts.dropLast() {
            guard let ref = current.referenceField(relationship: relationship),
                let target = current.fields[ref].referenceTo.first, let targetSchema = ObjectSchema.named(target)
            else {
                throw SOQLError(
                    code: "INVALID_FIELD",
                    message: "Didn't understand relationship '\(relationship)' in field path. If you are attempting "
                        + "to use a custom relationship, be sure to append the '__r' after the custom relationship "
                        + "name. Please reference your WSDL or the describe call for the appropriate names.")
            }
            hops.append(ref)
            headerParts.append(current.fields[ref].relationshipName ?? relationship)
            objects.append(targetSchema.name)
            current = targetSchema
        }
        guard let tf = current.fieldIndex(parts[parts.count - 1]) else {
            throw noSuchColumn(parts[parts.count - 1], on: current.name)
        }
        if current.fields[tf].isCompound {
            throw SOQLError(code: "API_ERROR", message: "Selecting compound data not supported in Bulk Query")
        }
        let field = current.fields[tf].name
        return .parent(
            hops: hops, objects: objects, field: field, header: (headerParts + [field]).joined(separator: "."))
    }

    static func noSuchColumn(_ name: String, on object: String) -> SOQLError {
        SOQLError(
            code: "INVALID_FIELD",
            message: "No such column '\(name)' on entity '\(object)'. If you are attempting to use a custom field, be "
                + "sure to append the '__c' after the custom field name. Please reference your WSDL or the describe "
                + "call for the appropriate names.")
    }

    /// The column's field definition.
    func definition(in table: ObjectTable) -> FieldDefinition? {
        switch self {
        case .field(let index, _): table.schema.fields[index]
        case .parent(_, let objects, let field, _):
            ObjectSchema.named(objects[objects.count - 1]).flatMap { s in s.fieldIndex(field).map { s.fields[$0] } }
        }
    }

    /// The column's field type (for typed comparisons).
    func type(in table: ObjectTable) -> FieldType { definition(in: table)?.type ?? .string }

    func value(row i: Int, table: ObjectTable, snapshot: OrgSnapshot, patch: RecordPatch?? = .none) -> String? {
        switch self {
        case .field(let index, _):
            if let patch { return table.value(index, i, patch, snapshot.generator) }
            return table.value(index, i, snapshot.generator)
        case .parent(let hops, let objects, let field, _):
            var id =
                patch.map { table.value(hops[0], i, $0, snapshot.generator) }
                ?? table.value(hops[0], i, snapshot.generator)
            for k in 1..<hops.count {
                guard let next = snapshot.schema(objects[k])?.fields[hops[k]].name else { return nil }
                id = snapshot.lookup(id: id, field: next)
            }
            return snapshot.lookup(id: id, field: field)
        }
    }
}

/// A literal on the right of a WHERE comparison.
enum SOQLLiteral: Sendable {
    case null, bool(Bool), number(Double), string(String), datetime(Int64), date(Int64)
    /// An Id, in its canonical 18-character form (compared case-sensitively).
    case id(String)
    /// A date literal such as `TODAY` or `LAST_N_DAYS:7`: the UTC range `[start, end)` in epoch milliseconds.
    case range(start: Int64, end: Int64)
}

enum SOQLOperator: String, Sendable {
    case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
}

/// Date functions allowed in WHERE (not in GROUP BY: Bulk queries have none), evaluated in UTC.
enum SOQLDateFunction: String, Sendable, CaseIterable {
    case calendarYear = "calendar_year", calendarMonth = "calendar_month", calendarQuarter = "calendar_quarter"
    case dayInMonth = "day_in_month", dayInWeek = "day_in_week", dayInYear = "day_in_year"
    case hourInDay = "hour_in_day", dayOnly = "day_only", weekInYear = "week_in_year"

    /// The function's value for a date (`YYYY-MM-DD`) or datetime text: a number, or for `DAY_ONLY` a date.
    func apply(_ text: String) -> SOQLValue? {
        if let ms = Timestamps.parseDatetime(text) { return apply(millis: ms) }
        return Timestamps.parseDate(text).map { apply(millis: $0 * 86_400_000) }
    }

    /// The function's value for an instant in epoch milliseconds.
    func apply(millis: Int64) -> SOQLValue {
        let days = millis >= 0 ? millis / 86_400_000 : -((-millis + 86_399_999) / 86_400_000)
        let (y, m, d) = Timestamps.civil(days: days)
        let dayInYear = days - Timestamps.days(year: y, month: 1, day: 1) + 1
        switch self {
        case .calendarYear: return .number(Double(y))
        case .calendarMonth: return .number(Double(m))
        case .calendarQuarter: return .number(Double((m - 1) / 3 + 1))
        case .dayInMonth: return .number(Double(d))
        // 1 = Sunday; 1970-01-01 was a Thursday (5).
        case .dayInWeek: return .number(Double(((days % 7 + 7) % 7 + 4) % 7 + 1))
        case .dayInYear: return .number(Double(dayInYear))
        case .hourInDay: return .number(Double((millis - days * 86_400_000) / 3_600_000))
        case .weekInYear: return .number(Double((dayInYear - 1) / 7 + 1))
        case .dayOnly: return .date(days)
        }
    }
}

/// A computed left-hand value: what a date function yields.
enum SOQLValue: Sendable {
    case number(Double)
    case date(Int64)
}

/// The left side of a WHERE condition.
enum SOQLOperand: Sendable {
    case column(SOQLColumn)
    case function(SOQLDateFunction, SOQLColumn)

    var column: SOQLColumn {
        switch self {
        case .column(let c), .function(_, let c): c
        }
    }
}

/// A WHERE expression.
indirect enum SOQLCondition: Sendable {
    case compare(SOQLOperand, SOQLOperator, SOQLLiteral)
    /// `IN (…)` / `NOT IN (…)`.
    case inList(SOQLOperand, [SOQLLiteral], negated: Bool)
    /// `LIKE 'pattern'`: `%` any run, `_` one character, case-insensitive, `\` escapes.
    case like(SOQLOperand, String)
    /// `INCLUDES ('a;b', 'c')` (multipicklist): some group whose every value is selected; `EXCLUDES` negates.
    case includes(SOQLOperand, [[String]], excludes: Bool)
    case and(SOQLCondition, SOQLCondition)
    case or(SOQLCondition, SOQLCondition)
    case not(SOQLCondition)
}
