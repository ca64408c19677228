/// Value transformations that live in the generated SQL rather than in Swift per row.
///
/// A multipicklist arrives in the CSV as `a;b;c`. When its target column is an array (`text[]`), staging keeps
/// the text and the merge splits it, so COPY still parses every byte and Swift parses nothing.
extension LoadPlan {
    /// Whether `column`'s target type is an array, loaded from `;`-separated text.
    func isSplitColumn(_ column: String) -> Bool {
        columnTypes[column]?.hasSuffix("[]") ?? false
    }

    /// The staging table's type for `column`: the target's, except `text` for array columns.
    func stagingType(_ column: String) -> String {
        isSplitColumn(column) ? "text" : (columnTypes[column] ?? "text")
    }

    /// The expression reading `column` from staging (optionally through `alias`) as the target's type.
    func stagedValue(_ column: String, alias: String? = nil) -> String {
        let reference = (alias.map { $0 + "." } ?? "") + SQLIdentifier.quote(column)
        guard isSplitColumn(column), let type = columnTypes[column] else { return reference }
        return "string_to_array(\(reference), ';')::\(type)"
    }

    /// Every mapped column of staging, transformed, named as the column: the select list of the merge's source.
    var stagedSelectList: String {
        mapping.allMappings.map { mapped in
            let value = stagedValue(mapped.column)
            return isSplitColumn(mapped.column) ? "\(value) AS \(SQLIdentifier.quote(mapped.column))" : value
        }.joined(separator: ", ")
    }
}
