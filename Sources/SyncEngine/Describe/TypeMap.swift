import SalesforceClient

/// Salesforce describe types → PostgreSQL column types, and API names → column names, for `sfpg describe`.
///
/// Text types map to `text`, not `varchar(length)`: Salesforce enforces the length already, and an admin widening
/// a field would otherwise break the next COPY. A multipicklist is `text[]`: the loader stages the CSV's `a;b;c` as
/// text and the merge splits it.
public enum TypeMap {
    /// What `sfpg describe` does with one field.
    public enum Column: Equatable, Sendable {
        /// A column of this PostgreSQL type.
        case type(String)
        /// Left out, with the reason printed as a comment.
        case excluded(String)
    }

    public static func column(for field: FieldDescription) -> Column {
        let type = field.type.lowercased()
        switch type {
        case "int": return .type(field.digits > 9 ? "bigint" : "integer")
        case "base64":
            return .excluded("base64: the Bulk API cannot select binary fields; fetch them one record at a time via REST")
        case "address", "location":
            return .excluded(
                "compound \(field.type) field: the Bulk API cannot select it; its component fields can be (they are listed separately)")
        default: return .type(columnTypes[type] ?? "text")
        }
    }

    /// Describe type → column type; text types and types this map does not know are `text`. double, currency and
    /// percent are unconstrained numeric, never integer: Salesforce writes them the Java way (`1.2345678E7`,
    /// `9.0E7`, also for custom Number fields of scale 0, which describe as double) and sometimes with more
    /// decimals than the field's scale (KB 000212661). numeric accepts every such text exactly; numeric(p, s) would
    /// round those values silently and integer would reject `5.0E8`.
    private static let columnTypes: [String: String] = [
        "id": "varchar(18)", "reference": "varchar(18)", "multipicklist": "text[]", "boolean": "boolean",
        "long": "bigint", "double": "numeric", "currency": "numeric", "percent": "numeric", "date": "date",
        "datetime": "timestamptz", "time": "time",
    ]

    /// Whether `type` looks like a describe type: an ASCII word (`string`, `datetime`, `anyType`). Types
    /// this map does not know and that are well formed become `text`, so a new Salesforce type does not break
    /// `sfpg describe`; anything else is refused by ``TableDesign/validate(_:)``.
    public static func isWellFormedType(_ type: String) -> Bool {
        !type.isEmpty && type.utf8.count <= 40 && type.unicodeScalars.allSatisfy { $0.isASCII && $0.properties.isAlphabetic }
    }

    /// Whether a Bulk API query can select the field.
    static func isBulkSelectable(_ field: FieldDescription) -> Bool {
        if case .type = column(for: field) { return true }
        return false
    }

    /// Columns sfpg maintains itself; a field never takes these names.
    static let reserved: Set<String> = ["synced_at", "deleted_at"]

    /// API name → column for every field of `fields`, deterministic and collision-free.
    ///
    /// `Id` → `salesforce_id` (so a table may keep its own `id`); others are the snake_case of the API name
    /// without `__c` (`Lifetime_Value__c` → `lifetime_value`). When two fields would share a name, custom fields
    /// keep a `_c` suffix; anything still clashing gets `_2`, `_3`, … in describe order. Names longer than
    /// PostgreSQL's 63 bytes are cut. The names depend on the whole object, never on which fields were selected.
    public static func columnNames(for fields: [FieldDescription]) -> [String: String] {
        func base(_ field: FieldDescription) -> String {
            field.name.caseInsensitiveEquals("Id") ? "salesforce_id" : field.name.snakeCased.utf8Prefix(63)
        }
        var counts: [String: Int] = [:]
        for field in fields { counts[base(field), default: 0] += 1 }
        var taken = reserved
        var names: [String: String] = [:]
        for field in fields {
            var name = base(field)
            if counts[name, default: 0] > 1 || reserved.contains(name), field.custom || field.name.hasSuffix("__c") {
                name = name.utf8Prefix(61) + "_c"
            }
            var candidate = name
            var suffix = 2
            while taken.contains(candidate) {
                candidate = name.utf8Prefix(60) + "_\(suffix)"
                suffix += 1
            }
            taken.insert(candidate)
            names[field.name] = candidate
        }
        return names
    }
}

extension String {
    /// The longest prefix of at most `bytes` UTF-8 bytes that ends on a character boundary. (Cutting the UTF-8 view
    /// and force-unwrapping `String(…)` trapped on a name with a multi-byte character at the cut.)
    func utf8Prefix(_ bytes: Int) -> String {
        var result = ""
        var count = 0
        for character in self {
            count += character.utf8.count
            if count > bytes { break }
            result.append(character)
        }
        return result
    }
}
