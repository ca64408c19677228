/// A run that reads a wide object in parts: each part's pages go into its own temporary table, the keys whose
/// parts disagree are read again, and the agreeing parts are joined into staging before the commit.
extension LoadRun {
    /// Sends the pages that follow into part `part` (1-based) holding `fields` (its CSV header, key and modstamp
    /// first), creating its table the first time. Needs the staged path (``allowsDirectLoad`` off before ``begin()``).
    public func beginPart(_ part: Int, fields: [String]) throws {
        guard phase == .loading, path == .staged, openPage == nil else {
            throw PostgresError(.configuration, "job '\(jobName)': a part needs a staged run begun and no open page")
        }
        try connection.execute(plan.partDDL(part, fields: fields))
        pageTarget = (plan.partCopySQL(part, fields: fields), fields)
    }

    /// Keys not in every one of `parts` parts exactly once with one modstamp.
    public func partMismatches(parts: Int) throws -> [String] {
        let result = try connection.execute(plan.partMismatchSQL(parts: parts))
        return (0..<result.rows.count).compactMap { result[$0, "key"] }
    }

    /// Drops `keys` from every part, before they are read again whole.
    public func forgetInParts(_ keys: [String], parts: Int) throws {
        // A text[] literal: every key double-quoted, its quotes and backslashes escaped.
        var array = "{"
        for (k, key) in keys.enumerated() {
            array += k == 0 ? "\"" : ",\""
            for character in key {
                if character == "\\" || character == "\"" { array.append("\\") }
                array.append(character)
            }
            array += "\""
        }
        array += "}"
        for part in 1...parts { try connection.execute(plan.partForgetSQL(part), [array]) }
    }

    /// Joins the parts into staging; from now on ``stagedRows`` counts the joined rows, which the commit proves.
    /// - Returns: the rows staged.
    @discardableResult
    public func joinParts(_ parts: [[String]]) throws -> Int {
        pageTarget = nil
        stagedRows = Int(try connection.execute(plan.joinPartsSQL(parts))[0, "n"] ?? "") ?? -1
        return stagedRows
    }
}
