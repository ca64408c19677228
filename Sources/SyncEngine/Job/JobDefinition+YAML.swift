import Foundation
import PostgresLoader
import SettingsSyntax
import Yams

extension JobDefinition {
    /// Every key a job file may have. Each is documented on the `JobDefinition` property it sets:
    /// `object`, `table`, `fields` (required); `key`, `watermark`, `deletes`, `where`, `page_size`, `overlap`;
    /// `on_missing_field`, `refresh_calculated`, `audit`, `audit_retention`; `sweep` (may a full sync mark missing
    /// keys deleted, default true) and `max_sweep` (the most rows one sweep may touch: `10%` or `5000`, default 10%);
    /// `split` (Bulk jobs a full run reads the object with, over disjoint `Id` ranges: 1–16, default 1);
    /// `api_budget` (the share of each daily allowance of the org a run may take it to: `50%`),
    /// `fields_per_query` (read the fields in parts of this many, see ``JobDefinition/fieldsPerQuery``).
    /// `deletes_check` (how often incremental runs ask for hard deletes: a duration or `off`, default every run).
    /// `stream` (`sfpg serve` applies the object's change events, see ``JobDefinition/stream``).
    /// `schedule`, `full_schedule` (cron expressions for `sfpg serve`).
    static let knownKeys: Set<String> = [
        "object", "table", "fields", "key", "watermark", "deletes", "where", "page_size", "overlap",
        "on_missing_field", "refresh_calculated", "audit", "audit_retention", "sweep", "max_sweep", "split", "fields_per_query",
        "api_budget", "verify", "deletes_check", "stream", "schedule", "full_schedule",
    ]

    /// Reads and validates every `*.yaml` and `*.yml` file in `directory`, sorted by name, then checks them against
    /// each other (`checkIdentity(_:directory:)`): every file is validated before any job runs, whichever jobs a
    /// command names.
    public static func loadAll(directory: String) throws -> [JobDefinition] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw JobDefinitionError(file: directory, key: "", problem: "cannot read the jobs directory; pass --jobs-directory DIR")
        }
        let files = names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        if files.isEmpty {
            throw JobDefinitionError(file: directory, key: "", problem: "no *.yaml or *.yml job files in this directory")
        }
        let jobs = try files.map { try load(file: (directory as NSString).appendingPathComponent($0)) }
        try checkIdentity(jobs, directory: directory)
        return jobs
    }

    /// Reads and validates one job file.
    public static func load(file: String) throws -> JobDefinition {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8)
        else {
            throw JobDefinitionError(file: file, key: "", problem: "cannot read the file (missing, or not UTF-8)")
        }
        let base = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        return try parse(yaml: text, name: base, file: file)
    }

    /// Parses and validates a job from YAML text.
    public static func parse(yaml: String, name: String, file: String) throws -> JobDefinition {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw JobDefinitionError(file: file, key: "", problem: "not valid YAML: \(Self.summary(of: error))")
        }
        guard let mapping = root?.mapping else {
            throw JobDefinitionError(file: file, key: "", problem: "expected a mapping with at least 'object', 'table' and 'fields'")
        }
        let reader = Reader(file: file, mapping: mapping)
        try reader.rejectUnknownKeys(knownKeys)

        let object = try reader.requiredString("object")
        guard object.isSalesforceName else {
            throw reader.error("object", "'\(object)' is not a Salesforce object API name (letters, digits, underscores)")
        }
        let tableText = try reader.requiredString("table")
        let table: TableName
        do { table = try TableName(parsing: tableText) } catch {
            throw reader.error("table", "'\(tableText)' is not a table name; write 'table' or 'schema.table'")
        }
        let fields = try reader.fields()
        let key = try reader.optionalString("key") ?? "Id"
        let watermark = try reader.optionalString("watermark") ?? "SystemModstamp"
        for (label, field) in [("key", key), ("watermark", watermark)] where !fields.contains(where: { $0.source.caseInsensitiveEquals(field) }) {
            throw reader.error(label, "'\(field)' must also be mapped under 'fields' (e.g. \(field): \(field.snakeCased))")
        }
        let deletesText = try reader.optionalString("deletes") ?? "soft"
        guard let deletes = DeleteMode(rawValue: deletesText) else {
            throw reader.error("deletes", "'\(deletesText)' is not one of soft, hard, ignore")
        }
        if deletes != .ignore, !fields.contains(where: { $0.source.caseInsensitiveEquals(isDeletedField) }) {
            throw reader.error("fields", "deletes: \(deletes.rawValue) needs IsDeleted mapped (e.g. IsDeleted: is_deleted), or set deletes: ignore")
        }
        let whereClause = try reader.optionalString("where")
        if let whereClause, whereClause.trimmingCharacters(in: .whitespaces).isEmpty {
            throw reader.error("where", "is empty; remove it or give a SOQL condition")
        }
        let pageSize = try reader.optionalInt("page_size", range: 1...1_000_000)
        let overlap = try reader.optionalString("overlap").map { try reader.duration("overlap", $0) } ?? 300
        let split = try reader.optionalInt("split", range: 1...JobDefinition.maxSplit) ?? 1
        var job = JobDefinition(
            name: name, file: file, object: object, table: table, fields: fields, key: key, watermark: watermark,
            deletes: deletes, whereClause: whereClause, pageSize: pageSize, overlapSeconds: overlap
        )
        job.split = split
        job.fieldsPerQuery = try reader.optionalInt("fields_per_query", range: 1...100_000)
        job.stream = try reader.optionalBool("stream") ?? false
        try reader.driftAndAuditOptions(into: &job)
        try reader.sweepOptions(into: &job)
        return job
    }

    private static func summary(of error: YamlError) -> String {
        // YamlError's description repeats the whole document; the first line says what and where.
        String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable"
    }
}

/// Reads typed values out of a YAML mapping, turning every problem into a `JobDefinitionError` with a line.
private struct Reader {
    let file: String
    let mapping: Node.Mapping

    func error(_ key: String, _ problem: String, line: Int? = nil) -> JobDefinitionError {
        JobDefinitionError(file: file, key: key, line: line ?? self.line(of: key), problem: problem)
    }

    func line(of key: String) -> Int? {
        mapping.first { $0.key.string == key }?.key.mark?.line ?? mapping.mark?.line
    }

    func node(_ key: String) -> Node? { mapping.first { $0.key.string == key }?.value }

    func rejectUnknownKeys(_ known: Set<String>) throws {
        for (keyNode, _) in mapping {
            let key = keyNode.string ?? "?"
            if !known.contains(key) {
                throw error(key, "unknown key; expected one of \(known.sorted().joined(separator: ", "))", line: keyNode.mark?.line)
            }
        }
    }

    func requiredString(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw error(key, "is required") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let scalar) = node, !scalar.string.isEmpty else { throw error(key, "expected a single value") }
        return scalar.string
    }

    func optionalInt(_ key: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text = try optionalString(key) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw error(key, "'\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Durations in ``DurationSyntax`` (`300`, `90s`, `5m`, `5min`, `2h`, `1d`), in whole seconds, at most ten years
    /// (far beyond any sane overlap or retention, far below where the date arithmetic that uses them overflows).
    func duration(_ key: String, _ text: String) throws -> Int {
        do {
            return try DurationSyntax.seconds(text, setting: key)
        } catch {
            throw self.error(key, "'\(text)' is not \(error.expected)")
        }
    }

    /// `on_missing_field`, `refresh_calculated`, `audit`, `audit_retention`.
    func driftAndAuditOptions(into job: inout JobDefinition) throws {
        if let text = try optionalString("on_missing_field") {
            guard let policy = MissingFieldPolicy(rawValue: text) else {
                throw error("on_missing_field", "'\(text)' is not one of fail, skip")
            }
            job.onMissingField = policy
        }
        job.refreshCalculatedSeconds = try optionalString("refresh_calculated").map { try duration("refresh_calculated", $0) }
        job.verifySeconds = try optionalString("verify").map { try duration("verify", $0) }
        if let value = try optionalBool("audit") { job.audit = value }
        job.auditRetentionSeconds = try optionalString("audit_retention").map { try duration("audit_retention", $0) }
        if job.auditRetentionSeconds != nil, !job.audit {
            throw error("audit_retention", "needs audit: true")
        }
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let text = try optionalString(key) else { return nil }
        guard let value = ["true": true, "false": false, "yes": true, "no": false][text.lowercased()] else {
            throw error(key, "'\(text)' is not true or false")
        }
        return value
    }

    /// `sweep`, `max_sweep` and `deletes_check`.
    func sweepOptions(into job: inout JobDefinition) throws {
        if let value = try optionalBool("sweep") { job.sweep = value }
        if let text = try optionalString("max_sweep") { job.maxSweep = try sweepLimit("max_sweep", text) }
        if let text = try optionalString("api_budget") {
            do { job.apiBudget = try PercentSyntax.budget(text, setting: "api_budget") } catch {
                throw self.error("api_budget", "'\(text)' is not a percentage above 0% up to 100% (e.g. 50%)")
            }
        }
        if let text = try optionalString("deletes_check") {
            job.deletesCheckSeconds = text.lowercased() == "off" ? nil : try duration("deletes_check", text)
        }
        job.schedule = try optionalString("schedule").map { try cron("schedule", $0) }
        job.fullSchedule = try optionalString("full_schedule").map { try cron("full_schedule", $0) }
    }

    func cron(_ key: String, _ text: String) throws -> CronSchedule {
        do { return try CronSchedule(parsing: text) } catch { throw self.error(key, "\(error)") }
    }

    /// `10%`, `2.5%` (a share of the live rows, 0 to 100) or `5000` (rows). Digits and one decimal point only:
    /// `Double` alone would also take `nan`, `inf`, `1e3` and hexadecimal, none of which a reader of the file means.
    func sweepLimit(_ key: String, _ text: String) throws -> SweepLimit {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let problem = "'\(text)' is not a percentage from 0% to 100% (e.g. 10% or 2.5%) or a row count of 0 or more (e.g. 5000)"
        if trimmed.hasSuffix("%") {
            guard let share = PercentSyntax.fraction(trimmed) else { throw error(key, problem) }
            return .fraction(share)
        }
        guard !trimmed.isEmpty, trimmed.allSatisfy(\.isASCIIDigit), let rows = Int(trimmed) else {
            throw error(key, problem)
        }
        return .count(rows)
    }

    func fields() throws -> [JobDefinition.FieldMapping] {
        guard let node = node("fields") else { throw error("fields", "is required: map Salesforce fields to columns") }
        guard let pairs = node.mapping, !pairs.isEmpty else {
            throw error("fields", "expected a mapping of Salesforce field → column, e.g. 'Email: email'")
        }
        var result: [JobDefinition.FieldMapping] = []
        for (keyNode, valueNode) in pairs {
            let line = keyNode.mark?.line
            guard let source = keyNode.string, source.isSalesforceFieldPath else {
                throw error("fields", "'\(keyNode.string ?? "?")' is not a Salesforce field API name (e.g. Email or Account.Name)", line: line)
            }
            guard let column = valueNode.string, !column.isEmpty else {
                throw error("fields.\(source)", "expected a column name", line: line)
            }
            if result.contains(where: { $0.source.caseInsensitiveEquals(source) }) {
                throw error("fields.\(source)", "is mapped twice", line: line)
            }
            if let other = result.first(where: { $0.column == column }) {
                throw error("fields.\(source)", "column '\(column)' is already the target of \(other.source)", line: line)
            }
            result.append(.init(source: source, column: column, line: line))
        }
        return result
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isWholeNumber }
}

extension String {
    /// Letters, digits and underscores, starting with a letter: what Salesforce allows in API names.
    var isSalesforceName: Bool {
        guard let first = unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    /// `Email`, `Account.Name`, `Owner.Manager.Email`: dot-separated API names.
    var isSalesforceFieldPath: Bool {
        split(separator: ".", omittingEmptySubsequences: false).allSatisfy { String($0).isSalesforceName }
    }

    /// `LastModifiedDate` → `last_modified_date`, `Account.Name` → `account_name`, `Score__c` → `score`.
    var snakeCased: String {
        var base = self
        if base.hasSuffix("__c") { base.removeLast(3) }
        var out = ""
        var previous: Character? = nil
        for (index, char) in base.enumerated() {
            if char == "." || char == "_" {
                if !out.hasSuffix("_") { out.append("_") }
            } else if char.isUppercase {
                let next = index + 1 < base.count ? base[base.index(base.startIndex, offsetBy: index + 1)] : nil
                if let previous, previous != "." && previous != "_" && (previous.isLowercase || previous.isNumber || (next?.isLowercase ?? false)) {
                    if !out.hasSuffix("_") { out.append("_") }
                }
                out.append(Character(char.lowercased()))
            } else {
                out.append(char)
            }
            previous = char
        }
        return out
    }
}
