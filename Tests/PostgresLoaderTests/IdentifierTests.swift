import PostgresLoader
import Testing

@Suite struct IdentifierTests {
    @Test(arguments: [
        ("contacts", nil, "contacts"),
        ("public.contacts", "public", "contacts"),
        ("\"My Schema\".\"We\"\"ird.Name\"", "My Schema", "We\"ird.Name"),
        ("Sales.Contacts", "Sales", "Contacts"),
    ] as [(String, String?, String)])
    func parsesTableNames(text: String, schema: String?, name: String) throws {
        let table = try TableName(parsing: text)
        #expect(table.schema == schema)
        #expect(table.name == name)
    }

    @Test(arguments: ["", "a.b.c", "\"open", "a.", ".b"])
    func rejectsMalformedTableNames(text: String) {
        #expect(throws: PostgresError.self) { try TableName(parsing: text) }
    }

    @Test func quotesByDoublingQuotes() {
        #expect(SQLIdentifier.quote("we\"ird") == "\"we\"\"ird\"")
        #expect(TableName(schema: "a b", name: "C").quoted == "\"a b\".\"C\"")
    }

    /// A `"` followed by a combining mark is one Swift `Character` but two scalars to PostgreSQL: the quote must
    /// still be doubled, or the identifier (or literal) ends early.
    @Test func quotesAreDoubledWhenACombiningMarkFollows() throws {
        let name = "a\"\u{0301}b"
        #expect(SQLIdentifier.quote(name) == "\"a\"\"\u{0301}b\"")
        #expect(SQLLiteral.quote("x'\u{0301}y") == "E'x''\u{0301}y'")
        let fixture = try LoaderFixture()
        try fixture.connection.execute("CREATE TABLE \(SQLIdentifier.quote(name)) (v int)")
        let found = try fixture.connection.execute(
            "SELECT relname FROM pg_class WHERE relname = $1", [name])
        #expect(found.rows.count == 1)
        #expect(try fixture.connection.execute("SELECT \(SQLLiteral.quote("x'\u{0301}y")) AS v")[0, "v"] == "x'\u{0301}y")
    }

    @Test func hostileTableAndColumnNamesAreQuotedEverywhere() throws {
        let fixture = try LoaderFixture()
        let table = TableName(schema: "My Schema", name: "we\"ird; DROP TABLE x")
        try fixture.connection.executeScript(
            """
            CREATE TABLE x (keep int);
            CREATE SCHEMA "My Schema";
            CREATE TABLE "My Schema"."we""ird; DROP TABLE x" (
                "Key Col" varchar(18) PRIMARY KEY, "Mod""Stamp" timestamptz NOT NULL, "IsGone" boolean,
                "Full Name; --" text, "deleted at" timestamptz
            );
            """)
        fixture.mapping = LoadMapping(
            table: table, key: ColumnMapping(source: "Id", column: "Key Col"),
            modstamp: ColumnMapping(source: "SystemModstamp", column: "Mod\"Stamp"),
            isDeleted: ColumnMapping(source: "IsDeleted", column: "IsGone"),
            columns: [ColumnMapping(source: "Name", column: "Full Name; --")], deletes: .soft,
            syncedAtColumn: "synced_at", deletedAtColumn: "deleted at")
        let header = "Id,SystemModstamp,IsDeleted,Name\n"
        let first = try fixture.load([header + "\"A1\",\"2024-01-01T00:00:00Z\",\"false\",\"O'Brien; DROP TABLE x\"\n"])
        #expect(first.counts.inserted == 1)
        let second = try fixture.load(
            [header + "\"A2\",\"2024-01-02T00:00:00Z\",\"false\",\"B\"\n"], .full, fullSweep: true, allowMassDelete: true)
        #expect(second.counts.deleted == 1)
        let rows = try fixture.connection.execute(
            "SELECT \"Key Col\", \"Full Name; --\", \"IsGone\"::text, (\"deleted at\" IS NOT NULL)::text FROM \(table.quoted) ORDER BY 1")
        #expect(rows.rows == [["A1", "O'Brien; DROP TABLE x", "true", "true"], ["A2", "B", "false", "false"]])
        #expect(try fixture.value("SELECT to_regclass('x') IS NOT NULL") == "t")
    }

    @Test func missingMappedColumnIsASchemaError() throws {
        let fixture = try LoaderFixture()
        fixture.mapping.columns.append(ColumnMapping(source: "Birthdate", column: "birthdate"))
        let error = #expect(throws: PostgresError.self) { try fixture.withRun { _ in } }
        #expect(error?.code == .schema)
        #expect(error?.message.contains("birthdate") == true)
        // The failed init released the lock.
        fixture.mapping = LoadMapping.contacts
        try fixture.withRun(.full) { run in run.fail(CancellationError(), status: .cancelled, salesforceJobId: nil, apiCalls: 0) }
    }
}
