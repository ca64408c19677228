/// The SQL of an incremental run's deletes check (issue 18): the records getDeleted lists, or the keys a key sweep
/// read, staged in the run's transaction and applied after the merge with the sweep's statements
/// (``sweepSQL(within:gone:deletedAt:)``, ``auditSweepSQL(within:gone:)``).
extension LoadPlan {
    static let deletedRecords = "pg_temp." + SQLIdentifier.quote("sfpg_deleted")
    static let sweptKeys = "pg_temp." + SQLIdentifier.quote("sfpg_keys")

    /// The key column typed as the target's, so the lookups below probe the target's key index.
    private var keyDefinition: String { "\(key) \(stagingType(mapping.key.column))" }

    /// getDeleted's records: key and deletion time (NULL when Salesforce sent none readable).
    var deletedRecordsDDL: String {
        "CREATE TEMP TABLE IF NOT EXISTS \(Self.deletedRecords) (\(keyDefinition), deleted_at timestamptz) ON COMMIT DROP"
    }

    /// Appends records from two parallel text arrays (`$1` keys, `$2` ISO-8601 times, empty for none).
    var insertDeletedRecordsSQL: String {
        """
        INSERT INTO \(Self.deletedRecords) (\(key), deleted_at)
        SELECT k, nullif(d, '')::timestamptz FROM unnest($1::text[], $2::text[]) AS u(k, d)
        """
    }

    /// A key sweep's keys: one column, the key, loaded from the `SELECT Id …` query's result pages.
    var sweptKeysDDL: String { "CREATE TEMP TABLE \(Self.sweptKeys) (\(keyDefinition)) ON COMMIT DROP" }

    var sweptKeysCopySQL: String { "COPY \(Self.sweptKeys) (\(key)) FROM STDIN WITH (FORMAT csv)" }

    /// Target rows (`t`) getDeleted lists, unless the stored version is newer than the deletion: a record deleted
    /// and then undeleted keeps its Id with a later SystemModstamp, and an older event never overwrites a newer
    /// version, as in the merge.
    var listedAsDeleted: String {
        """
        EXISTS (SELECT 1 FROM \(Self.deletedRecords) AS d WHERE d.\(key) = t.\(key)
            AND (t.\(modstamp) IS NULL OR d.deleted_at IS NULL OR \(modstampInstant("t.\(modstamp)")) <= d.deleted_at))
        """
    }

    /// When a listed row was deleted, by Salesforce's clock (now when it sent no time).
    var listedDeletionTime: String {
        "coalesce((SELECT max(d.deleted_at) FROM \(Self.deletedRecords) AS d WHERE d.\(key) = t.\(key)), now())"
    }
}
