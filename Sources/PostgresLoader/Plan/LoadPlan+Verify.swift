/// The SQL of `sfpg verify`: the table's live rows counted per calendar window of the modstamp (UTC, as Salesforce's
/// `CALENDAR_YEAR`/`CALENDAR_MONTH`/`DAY_ONLY` count), and Salesforce's list of keys and modstamps for the windows
/// whose counts differ, compared with the table.
extension LoadPlan {
    /// Salesforce's `key, modstamp` of the compared windows (``verifyListingDDL``).
    static let verifyListing = "pg_temp." + SQLIdentifier.quote("sfpg_verify_listing")
    /// Keys live in the table and gone from Salesforce, swept by a repair (``KeyRange/verifiedExtras``).
    static let verifyExtras = "pg_temp." + SQLIdentifier.quote("sfpg_verify_extras")

    private var liveAnd: String { liveCondition.map { "\($0) AND " } ?? "" }
    private var instant: String { modstampInstant("t.\(modstamp)") }

    /// Live rows per `$3` (`year`, `month` or `day`) of the modstamp within [`$1`, `$2`). Result columns: bucket (the
    /// window's first day, `YYYY-MM-DD`), n.
    var windowCountsSQL: String {
        """
        SELECT to_char(date_trunc($3, \(instant) AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS bucket, count(*) AS n
        FROM \(table) AS t WHERE \(liveAnd)\(instant) >= $1::timestamptz AND \(instant) < $2::timestamptz GROUP BY 1
        """
    }

    /// The earliest live modstamp (ISO-8601 UTC), where a verify whose first count timed out starts its years.
    var earliestModstampSQL: String {
        "SELECT to_char(min(\(instant)) AT TIME ZONE 'UTC', \(Self.isoFormat)) AS earliest FROM \(table) AS t"
            + (liveCondition.map { " WHERE \($0)" } ?? "")
    }

    /// The listing takes the key's and the modstamp's own types, so the comparisons below use the table's index.
    var verifyListingDDL: String {
        "CREATE TEMP TABLE \(Self.verifyListing) ON COMMIT DROP AS SELECT t.\(key) AS key, t.\(modstamp) AS modstamp "
            + "FROM \(table) AS t WITH NO DATA"
    }

    var verifyListingCopySQL: String {
        "COPY \(Self.verifyListing) (key, modstamp) FROM STDIN WITH (FORMAT csv, FORCE_NULL (modstamp))"
    }

    /// Keys Salesforce listed that the table lacks (or holds marked deleted), and keys it holds with an older
    /// modstamp. Result columns: compared, missing, stale.
    var listingDriftSQL: String {
        let stamp = modstampInstant("l.modstamp")
        return """
            SELECT (SELECT count(*) FROM \(Self.verifyListing)) AS compared,
                (SELECT count(*) FROM \(Self.verifyListing) AS l
                  WHERE NOT EXISTS (SELECT 1 FROM \(table) AS t WHERE \(liveAnd)t.\(key) = l.key)) AS missing,
                (SELECT count(*) FROM \(Self.verifyListing) AS l JOIN \(table) AS t ON t.\(key) = l.key
                  WHERE \(liveAnd)\(instant) < \(stamp)) AS stale
            """
    }

    /// Live rows whose modstamp lies in one of the windows [`$1[i]`, `$2[i]`) but whose key Salesforce did not list:
    /// candidates for extra rows (a record whose modstamp moved to an unlisted window is one too; the caller asks
    /// Salesforce about each). Result column: key.
    var unlistedKeysSQL: String {
        """
        SELECT t.\(key)::text AS key FROM \(table) AS t
        WHERE \(liveAnd)EXISTS (SELECT 1 FROM unnest($1::timestamptz[], $2::timestamptz[]) AS w(lo, hi)
                               WHERE \(instant) >= w.lo AND \(instant) < w.hi)
          AND NOT EXISTS (SELECT 1 FROM \(Self.verifyListing) AS l WHERE l.key = t.\(key))
        ORDER BY 1
        """
    }

    var verifyExtrasDDL: String {
        "CREATE TEMP TABLE IF NOT EXISTS \(Self.verifyExtras) AS SELECT t.\(key) AS key FROM \(table) AS t WITH NO DATA"
    }

    /// Fills the extras from `$1`, a text array of keys.
    var verifyExtrasInsertSQL: String {
        "INSERT INTO \(Self.verifyExtras) (key) SELECT k FROM unnest($1::text[]) AS k"
    }
}
