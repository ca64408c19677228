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

    static func malformed(_ message: String) -> SOQLError { SOQLError(code: "MALFORMED_QUERY", message: message) }
}

/// A selected or filtered column: a field of the queried object, or a field of a parent through a relationship.
enum SOQLColumn: Sendable {
    case field(index: Int, header: String)
    case parent(referenceField: Int, object: String, field: String, header: String)

    var header: String {
        switch self {
        case .field(_, let header), .parent(_, _, _, let header): header
        }
    }

    /// Resolves `Name` or `Account.Name` (case-insensitive) against a table; headers get canonical names.
    static func resolve(_ path: String, in table: ObjectTable) throws(SOQLError) -> SOQLColumn {
        let schema = table.schema
        let parts = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 {
            guard let f = schema.fieldIndex(path), !table.removedFields.contains(f) else {
                throw SOQLError(
                    code: "INVALID_FIELD",
                    message: "No such column '\(path)' on entity '\(schema.name)'. If you are attempting to use a "
                        + "custom field, be sure to append the '__c' after the custom field name. Please reference "
                        + "your WSDL or the describe call for the appropriate names.")
            }
            if schema.fields[f].isCompound {
                throw SOQLError(code: "API_ERROR", message: "Selecting compound data not supported in Bulk Query")
            }
            return .field(index: f, header: schema.fields[f].name)
        }
        guard parts.count == 2, let ref = schema.referenceField(relationship: parts[0]),
            let target = schema.fields[ref].referenceTo.first, let targetSchema = ObjectSchema.named(target)
        else {
            throw SOQLError(
                code: "INVALID_FIELD",
                message: "Didn't understand relationship '\(parts[0])' in field path. If you are attempting to use "
                    + "a custom relationship, be sure to append the '__r' after the custom relationship name.")
        }
        guard let tf = targetSchema.fieldIndex(parts[1]) else {
            throw SOQLError(code: "INVALID_FIELD", message: "No such column '\(parts[1])' on entity '\(target)'.")
        }
        let relationship = schema.fields[ref].relationshipName ?? parts[0]
        let field = targetSchema.fields[tf].name
        return .parent(referenceField: ref, object: target, field: field, header: "\(relationship).\(field)")
    }

    /// The column's field type (for typed comparisons).
    func type(in table: ObjectTable) -> FieldType {
        switch self {
        case .field(let index, _): table.schema.fields[index].type
        case .parent(_, let object, let field, _):
            ObjectSchema.named(object).flatMap { s in s.fieldIndex(field).map { s.fields[$0].type } } ?? .string
        }
    }

    func value(row i: Int, table: ObjectTable, snapshot: OrgSnapshot, patch: RecordPatch?? = .none) -> String? {
        switch self {
        case .field(let index, _):
            if let patch { return table.value(index, i, patch, snapshot.generator) }
            return table.value(index, i, snapshot.generator)
        case .parent(let ref, _, let field, _):
            let id = patch.map { table.value(ref, i, $0, snapshot.generator) } ?? table.value(ref, i, snapshot.generator)
            return snapshot.lookup(id: id, field: field)
        }
    }
}

/// A literal on the right of a WHERE comparison.
enum SOQLLiteral: Sendable {
    case null, bool(Bool), number(Double), string(String), datetime(Int64), date(Int64)
}

enum SOQLOperator: String, Sendable {
    case eq = "=", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
}

/// A WHERE expression.
indirect enum SOQLCondition: Sendable {
    case compare(SOQLColumn, SOQLOperator, SOQLLiteral)
    case and(SOQLCondition, SOQLCondition)
    case or(SOQLCondition, SOQLCondition)
    case not(SOQLCondition)
}
