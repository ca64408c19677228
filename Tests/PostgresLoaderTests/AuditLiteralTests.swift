import PostgresLoader
import Testing

/// The audit SQL names columns in string literals; they must mean the same whatever `standard_conforming_strings`.
@Suite struct AuditLiteralTests {
    @Test func columnNamesWithQuotesAndBackslashesAreAuditedUnderNonStandardStrings() throws {
        let setup = try LoaderFixture()
        let database = try setup.value("SELECT current_database()") ?? ""
        try setup.connection.execute("ALTER DATABASE \(SQLIdentifier.quote(database)) SET standard_conforming_strings = off")
        try setup.connection.execute(
            """
            CREATE TABLE public.odd (salesforce_id varchar(18) PRIMARY KEY, system_modstamp timestamptz NOT NULL,
                is_deleted boolean NOT NULL DEFAULT false, "we\\'ird" text, "back\\slash" text, synced_at timestamptz,
                deleted_at timestamptz)
            """)
        // A new session, so the database default applies.
        let fixture = try LoaderFixture(existing: setup.conninfo)
        #expect(try fixture.value("SHOW standard_conforming_strings") == "off")
        var mapping = LoadMapping(
            table: TableName(schema: "public", name: "odd"),
            columns: [ColumnMapping(source: "FirstName", column: "we\\'ird"), ColumnMapping(source: "LastName", column: "back\\slash")])
        mapping.audit = AuditPolicy()
        fixture.mapping = mapping
        let page = "Id,SystemModstamp,IsDeleted,FirstName,LastName\n"
            + "\"003000000000001AAA\",\"2024-01-01T00:00:00.000Z\",\"false\",\"Ada\",\"Lovelace\"\n"
        try fixture.withRun(job: "odd") { run in
            try run.begin()
            try run.copyPage(1) { try $0.write(page) }
            _ = try run.commitStaged()
        }
        let keys = try fixture.connection.execute(
            "SELECT k FROM sfpg.changes c CROSS JOIN LATERAL jsonb_object_keys(c.changes) k ORDER BY k")
        #expect(keys.rows.map { $0[0] } == ["back\\slash", "is_deleted", "we\\'ird"])
        #expect(try fixture.value("SELECT changes -> E'we\\\\''ird' ->> 'new' FROM sfpg.changes") == "Ada")
    }
}
