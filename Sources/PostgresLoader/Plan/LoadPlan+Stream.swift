/// The SQL that applies one micro-batch of change events (``StreamBatch``). The events' rows are COPYed into a
/// staging table that holds, per row, its round (a key's n-th event in the batch, so one statement never meets a key
/// twice), its operation and the mapped columns it sets (`sfpg_sets`, indices into `allMappings`). Each round is then
/// a handful of set-based statements, whatever the number of events or the mix of column sets.
extension LoadPlan {
    static let streamStaging = "pg_temp." + SQLIdentifier.quote("sfpg_stream")

    var streamStagingDDL: String {
        "CREATE TEMP TABLE \(Self.streamStaging) (sfpg_round int, sfpg_op text, sfpg_sets int[], \(stagingColumns)) ON COMMIT DROP"
    }

    /// Unquoted empty fields are NULL, quoted ones empty text.
    var streamCopySQL: String {
        "COPY \(Self.streamStaging) (sfpg_round, sfpg_op, sfpg_sets, \(columnList)) FROM STDIN WITH (FORMAT csv)"
    }

    private func streamRows(_ operation: String) -> String {
        "s.sfpg_round = $1 AND s.sfpg_op = '\(operation)'"
    }

    /// `column` after the event: its value in the event when the event sets it, else the stored one. `typed`: `s` is
    /// staging already read as the target's types (``streamAuditSQL``), not staging itself.
    private func streamValue(_ column: String, typed: Bool = false) -> String {
        guard let index = mapping.allMappings.firstIndex(where: { $0.column == column }) else { return "t.\(q(column))" }
        let value = typed ? "s.\(q(column))" : stagedValue(column, alias: "s")
        return "CASE WHEN \(index) = ANY(s.sfpg_sets) THEN \(value) ELSE t.\(q(column)) END"
    }

    /// An event never overwrites a newer row; one that would change nothing (the same batch applied again) is skipped.
    private func streamUpdateCondition(typed: Bool = false) -> String {
        let columns = [mapping.modstamp.column] + auditedColumns
        let stored = columns.map { comparable("t.\(q($0))", column: $0) }.joined(separator: ", ")
        let after = columns.map { comparable(streamValue($0, typed: typed), column: $0) }.joined(separator: ", ")
        return "(t.\(modstamp) IS NULL OR t.\(modstamp) <= s.\(modstamp)) AND ROW(\(stored)) IS DISTINCT FROM ROW(\(after))"
    }

    /// CREATE events: a full image, upserted like the batch merge's rows (a newer stored row wins).
    var streamInsertSQL: String {
        let (columns, values, updates) = upsertLists(isDeleted: mapping.isDeleted.map { "src." + q($0.column) })
        return """
            INSERT INTO \(table) AS t (\(columns.joined(separator: ", ")))
            SELECT \(values.joined(separator: ", "))
            FROM (SELECT \(stagedSelectList) FROM \(Self.streamStaging) AS s WHERE \(streamRows("create"))) AS src
            ON CONFLICT (\(key)) DO UPDATE SET \(updates.joined(separator: ", "))
            WHERE \(replaces(stored: "t", incoming: "EXCLUDED"))
            RETURNING (t.xmax = 0) AS inserted
            """
    }

    /// UPDATE events (and soft deletes, which set the deleted flag): only the columns each event sets.
    var streamUpdateSQL: String {
        var sets = (mapping.allMappings.dropFirst()).map { "\(q($0.column)) = \(streamValue($0.column))" }
        if hasSyncedAt, let synced = mapping.syncedAtColumn { sets.append("\(q(synced)) = now()") }
        var gone = "false"
        if let flag = mapping.isDeleted?.column {
            gone = "t.\(q(flag)) IS TRUE"
            if maintainsDeletedAt, let deletedAt = mapping.deletedAtColumn {
                sets.append("\(q(deletedAt)) = CASE WHEN \(streamValue(flag)) IS TRUE THEN coalesce(t.\(q(deletedAt)), now()) END")
            }
        }
        return """
            UPDATE \(table) AS t SET \(sets.joined(separator: ", "))
            FROM \(Self.streamStaging) AS s
            WHERE \(streamRows("update")) AND t.\(key) = s.\(key) AND \(streamUpdateCondition())
            RETURNING \(gone) AS deleted
            """
    }

    /// DELETE events of a `deletes: hard` job.
    var streamDeleteSQL: String {
        """
        DELETE FROM \(table) AS t USING \(Self.streamStaging) AS s
        WHERE \(streamRows("delete")) AND t.\(key) = s.\(key) AND (t.\(modstamp) IS NULL OR t.\(modstamp) <= s.\(modstamp))
        """
    }

    /// The round's audit rows, read before its statements change the table (`OFFSET 0` keeps the planner from
    /// computing each row's changes twice, once for the filter; columns as
    /// ``SyncStore/appendChanges(fromQuery:parameters:runId:jobName:policy:)`` takes them).
    var streamAuditSQL: String {
        let flag = mapping.isDeleted.map { q($0.column) }
        var operation = "CASE WHEN t.\(key) IS NULL THEN 'insert' WHEN s.sfpg_op = 'delete' THEN 'delete'"
        if let flag, let column = mapping.isDeleted?.column {
            let after = "CASE WHEN s.sfpg_op = 'create' THEN s.\(flag) ELSE \(streamValue(column, typed: true)) END"
            operation += " WHEN \(after) IS TRUE AND t.\(flag) IS NOT TRUE THEN 'delete'"
            operation += " WHEN \(after) IS NOT TRUE AND t.\(flag) IS TRUE THEN 'undelete'"
        }
        let changes = changesExpression(
            old: { "to_jsonb(t.\(self.q($0)))" },
            new: {
                "CASE s.sfpg_op WHEN 'delete' THEN NULL WHEN 'create' THEN to_jsonb(s.\(self.q($0))) "
                    + "ELSE to_jsonb(\(self.streamValue($0, typed: true))) END"
            })
        return """
            SELECT * FROM (
                SELECT s.\(key)::text AS record_key, \(modstampInstant("s.\(modstamp)")) AS system_modstamp,
                    \(operation) ELSE 'update' END AS operation, \(changes) AS changes
                FROM (SELECT sfpg_round, sfpg_op, sfpg_sets, \(stagedSelectList) FROM \(Self.streamStaging)) AS s
                LEFT JOIN \(table) AS t ON t.\(key) = s.\(key)
                WHERE s.sfpg_round = $1 AND CASE s.sfpg_op
                    WHEN 'create' THEN t.\(key) IS NULL OR \(replaces(stored: "t", incoming: "s"))
                    WHEN 'update' THEN t.\(key) IS NOT NULL AND \(streamUpdateCondition(typed: true))
                    ELSE t.\(key) IS NOT NULL AND (t.\(modstamp) IS NULL OR t.\(modstamp) <= s.\(modstamp)) END
                OFFSET 0
            ) AS a WHERE a.changes IS NOT NULL
            """
    }

    /// Which of `$1` (a `text[]`) the table holds.
    var existingKeysSQL: String {
        "SELECT \(key)::text AS key FROM \(table) WHERE \(key) = ANY($1::text[]::\(columnTypes[mapping.key.column] ?? "text")[])"
    }
}
