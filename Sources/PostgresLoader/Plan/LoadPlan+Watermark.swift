/// One Bulk job whose results a run loaded: the keys it read and when Salesforce created it.
///
/// A Bulk job over a large object is not an instant snapshot: its result holds every change committed before its
/// `createdDate`, and only some of those made while it ran. A change made in a range after that range's job was
/// created may be missing from the run, so no watermark may pass the job's creation.
public struct SnapshotScope: Sendable, Equatable {
    /// The Ids the job read (``KeyRange/all`` for an unsplit run).
    public var range: KeyRange
    /// The job's `createdDate` as Salesforce wrote it (its clock, not ours); nil when Salesforce did not say.
    public var createdDate: String?

    public init(range: KeyRange = .all, createdDate: String?) {
        self.range = range
        self.createdDate = createdDate
    }
}

/// The one watermark rule, for every mode: the new watermark is at most the earliest `createdDate` of the Bulk
/// jobs whose results the run loaded, and at most the largest modstamp loaded in each scope that had rows; a scope
/// without rows contributes its job's `createdDate`. Re-reading a few minutes twice is cheap; skipping a change
/// is not.
extension LoadPlan {
    /// The staged (or, for a direct load, stored) column that tells which scope a row belongs to: the scopes are
    /// `Id` ranges. Nil when `Id` is not mapped; then every row counts for every scope.
    var idColumn: String? {
        mapping.allMappings.first { $0.source.lowercased() == "id" }.map { q($0.column) }
    }

    /// The watermark `scopes` allow, from one scan of `relation`, and its parameters. Result column: watermark
    /// (ISO-8601 UTC, NULL when nothing bounds it: no rows and no creation date).
    func watermarkSQL(scopes: [SnapshotScope], in relation: String) -> (sql: String, parameters: [String?]) {
        let scopes = scopes.isEmpty ? [SnapshotScope(createdDate: nil)] : scopes
        var parameters: [String?] = []
        var maxima: [String] = []
        var marks: [String] = []
        for (index, scope) in scopes.enumerated() {
            var filter = ""
            if let idColumn,
                let condition = scope.range.sqlCondition(column: "r.\(idColumn)", firstParameter: parameters.count + 1)
            {
                filter = " FILTER (WHERE \(condition))"
                parameters += scope.range.parameters
            }
            maxima.append("max(\(modstampInstant("r.\(modstamp)")))\(filter) AS m\(index)")
            if let created = scope.createdDate {
                parameters.append(created)
                let ceiling = "$\(parameters.count)::timestamptz"
                marks.append("coalesce(least(s.m\(index), \(ceiling)), \(ceiling))")
            } else {
                marks.append("s.m\(index)")
            }
        }
        // least() ignores NULLs: a scope with neither rows nor a creation date bounds nothing.
        let sql = """
            SELECT to_char(least(\(marks.joined(separator: ", "))) AT TIME ZONE 'UTC', \(Self.isoFormat)) AS watermark
            FROM (SELECT \(maxima.joined(separator: ", ")) FROM \(relation) AS r) AS s
            """
        return (sql, parameters)
    }
}
