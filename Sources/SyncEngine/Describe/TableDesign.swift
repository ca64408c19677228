import PostgresLoader
import SalesforceClient

/// A job file and its target table, designed from Salesforce's describe of an object (`sfpg describe`).
public struct TableDesign: Sendable {
    public struct Column: Sendable, Equatable {
        public var field: String
        public var column: String
        public var type: String
        public var calculated: Bool
    }

    public var object: String
    public var table: TableName
    /// Selected fields in describe order.
    public var columns: [Column]
    /// Fields left out (compound, base64) with the reason.
    public var excluded: [(field: String, reason: String)]
    public var hasIsDeleted: Bool

    /// - Parameters:
    ///   - fields: API names to include (case-insensitive); nil includes every selectable field. `Id`,
    ///     `SystemModstamp` and `IsDeleted` (when the object has it) are always included.
    ///   - table: the target table; default `public.salesforce_<object in snake_case>`.
    /// - Throws: `SyncError` (configuration) for a field the object does not have, or an object without `Id` or
    ///   `SystemModstamp`.
    public init(description: SObjectDescription, fields: [String]?, table: TableName?) throws {
        try Self.validate(description)
        object = description.name
        self.table = table ?? TableName(schema: "public", name: "salesforce_" + description.name.snakeCased)
        let names = TypeMap.columnNames(for: description.fields)
        for required in ["Id", "SystemModstamp"] where description.field(required) == nil {
            throw SyncError("\(description.name) has no \(required) field; sfpg needs it as the key or watermark", exitStatus: .configuration)
        }
        hasIsDeleted = description.field(JobDefinition.isDeletedField) != nil
        var wanted: Set<String>?
        if let fields {
            for name in fields where description.field(name) == nil {
                throw SyncError("\(description.name) has no field '\(name)' (check the API name; custom fields end in __c)", exitStatus: .configuration)
            }
            wanted = Set((fields + ["Id", "SystemModstamp", JobDefinition.isDeletedField]).map { $0.lowercased() })
        }
        columns = []
        excluded = []
        for field in description.fields where wanted?.contains(field.name.lowercased()) ?? true {
            switch TypeMap.column(for: field) {
            case .type(let type):
                columns.append(Column(field: field.name, column: names[field.name]!, type: type, calculated: field.calculated))
            case .excluded(let reason):
                excluded.append((field.name, reason))
            }
        }
    }

    private func column(_ field: String) -> Column? { columns.first { $0.field.caseInsensitiveEquals(field) } }

    /// Checks every name and type of a describe before any of it goes into SQL or YAML.
    ///
    /// The describe is data from the network: `sfpg describe --apply` runs the DDL built from it as a script, so a
    /// field named `Photo\nCREATE TABLE …` (a compromised or misbehaving endpoint, a proxy, the emulator with bad
    /// data) would execute, and the same strings went unescaped into the job file. Salesforce API names are ASCII
    /// letters, digits and underscores starting with a letter (`__c`, `__r`, `ns__Name__c` fit that), and describe
    /// types are ASCII words (`string`, `anyType`): anything else is refused, naming the field in escaped form.
    /// - Throws: `SyncError` (configuration).
    public static func validate(_ description: SObjectDescription) throws {
        guard description.name.isSalesforceName else {
            throw SyncError(
                "Salesforce's describe returned the object name \(escaped(description.name)), which is not an API name "
                    + "(ASCII letters, digits and underscores, starting with a letter); nothing was generated",
                exitStatus: .configuration)
        }
        for field in description.fields {
            guard field.name.isSalesforceName else {
                throw SyncError(
                    "\(description.name)'s describe has a field named \(escaped(field.name)), which is not a Salesforce "
                        + "API name (ASCII letters, digits and underscores, starting with a letter); nothing was generated",
                    exitStatus: .configuration)
            }
            guard TypeMap.isWellFormedType(field.type) else {
                throw SyncError(
                    "\(description.name).\(field.name) has the describe type \(escaped(field.type)), which is not a "
                        + "Salesforce field type; nothing was generated",
                    exitStatus: .configuration)
            }
        }
    }

    /// A describe value for an error message: quoted, control characters escaped, at most 100 characters.
    static func escaped(_ text: String) -> String {
        let shown = text.count > 100 ? String(text.prefix(100)) + "…" : text
        return String(reflecting: shown)
    }

    /// `schema.table` when both are plain lower-case identifiers; otherwise the quoted form as a YAML string.
    var tableForYAML: String {
        let plain = ([table.schema].compactMap { $0 } + [table.name]).allSatisfy { part in
            part.first.map { ($0.isASCII && $0.isLetter) || $0 == "_" } ?? false
                && part.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
        }
        if plain { return ([table.schema].compactMap { $0 } + [table.name]).joined(separator: ".") }
        return YAMLText.scalar(table.quoted)
    }

    /// A job file ready to save as `jobs/<name>.yaml`.
    ///
    /// Written line by line (Yams cannot emit comments), with every value through ``YAMLText/scalar(_:)`` and every
    /// comment through ``YAMLText/comment(_:)``, so no value can end a line, open a comment or start a new key.
    public var jobYAML: String {
        var lines = [
            YAMLText.comment("Generated by `sfpg describe \(object)` from Salesforce's describe. Field: column."),
            "object: \(YAMLText.scalar(object))",
            "table: \(tableForYAML)",
            "fields:",
        ]
        let width = columns.map { YAMLText.scalar($0.field).count }.max() ?? 0
        for column in columns {
            let field = YAMLText.scalar(column.field)
            let note = column.calculated ? "  " + YAMLText.comment("formula: changes without moving SystemModstamp") : ""
            lines.append("  \(field):" + String(repeating: " ", count: width - field.count + 1) + YAMLText.scalar(column.column) + note)
        }
        for (field, reason) in excluded { lines.append("  " + YAMLText.comment("\(field) left out: \(reason)")) }
        lines += ["key: Id", "watermark: SystemModstamp", "deletes: \(hasIsDeleted ? "soft" : "ignore")", "overlap: 5m"]
        let formulas = columns.filter(\.calculated).map(\.field)
        if !formulas.isEmpty {
            lines.append("# \(formulas.joined(separator: ", ")) \(formulas.count == 1 ? "is a formula" : "are formulas"): re-read them daily.")
            lines.append("refresh_calculated: 24h")
        }
        lines.append("# audit: true            # record every change in sfpg.changes (see `sfpg history`)")
        lines.append("# on_missing_field: fail # or skip: a field deleted in Salesforce keeps its column as it was")
        return lines.joined(separator: "\n") + "\n"
    }

    private func definition(_ column: Column) -> String {
        var text = "\(SQLIdentifier.quote(column.column)) \(column.type)"
        if column.field.caseInsensitiveEquals("Id") { text += " PRIMARY KEY" }
        if column.field.caseInsensitiveEquals("SystemModstamp") { text += " NOT NULL" }
        if column.field.caseInsensitiveEquals(JobDefinition.isDeletedField) { text += " NOT NULL DEFAULT false" }
        return text
    }

    /// `CREATE TABLE IF NOT EXISTS` with every selected column, plus `deleted_at` (for soft deletes) and
    /// `synced_at`, which sfpg maintains.
    public var createTableSQL: String {
        var definitions = columns.map(definition)
        if hasIsDeleted { definitions.append("\"deleted_at\" timestamptz") }
        definitions.append("\"synced_at\" timestamptz NOT NULL DEFAULT now()")
        var sql = "CREATE TABLE IF NOT EXISTS \(table.quoted) (\n    " + definitions.joined(separator: ",\n    ") + "\n);\n"
        for (field, reason) in excluded { sql += "-- \(YAMLText.singleLine(field)) left out: \(YAMLText.singleLine(reason))\n" }
        return sql
    }

    /// `ALTER TABLE … ADD COLUMN` for the selected columns `existing` lacks, and the job-file lines that map them;
    /// empty when nothing is missing.
    public func alterSQL(existing: Set<String>) -> (sql: String, jobLines: [String]) {
        let missing = columns.filter { !existing.contains($0.column) }
        let sql = missing.map { "ALTER TABLE \(table.quoted) ADD COLUMN IF NOT EXISTS \(definition($0).replacingOccurrences(of: " PRIMARY KEY", with: ""));\n" }
        return (sql.joined(), missing.map { "  \(YAMLText.scalar($0.field)): \(YAMLText.scalar($0.column))" })
    }
}

/// Safe pieces of a YAML document written line by line.
enum YAMLText {
    /// `text` as a YAML scalar: plain when it is an identifier-like word YAML reads back as the same string,
    /// otherwise double-quoted with every quote, backslash, line break and control character escaped (the
    /// double-quoted style is the only one that can carry any string on one line).
    static func scalar(_ text: String) -> String {
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]
        let plain = text.first.map { $0.isASCII && ($0.isLetter || $0 == "_") } ?? false
            && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == ".") }
            && !reserved.contains(text.lowercased())
        if plain { return text }
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let value = scalar.value
                // C0 and C1 controls, DEL, YAML's extra line breaks (NEL, LS, PS) and the BOM.
                if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 || value == 0xFEFF {
                    let hex = String(value, radix: 16, uppercase: true)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `# text` on one line.
    static func comment(_ text: String) -> String { "# " + singleLine(text) }

    /// `text` with every line break and control character replaced by a space, for comments (YAML and SQL).
    static func singleLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            let value = scalar.value
            let breaks = value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029
            return breaks ? " " : scalar
        }))
    }
}
