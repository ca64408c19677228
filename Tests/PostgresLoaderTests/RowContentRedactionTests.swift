@testable import PostgresLoader
import Testing

/// A rejected row's values (names, emails) never reach an error's description or `sfpg.sync_logs`, while the page,
/// line, field and constraint that locate the problem still do.
@Suite struct RowContentRedactionTests {
    private func baseline() throws -> LoaderFixture {
        let fixture = try LoaderFixture()
        try fixture.load([LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z", first: "Kept"))])
        return fixture
    }

    private func storedMessages(_ fixture: LoaderFixture) throws -> String {
        try fixture.value("SELECT string_agg(error_message, E'\\n') FROM sfpg.sync_logs WHERE status = 'failed'") ?? ""
    }

    @Test func aBadValueIsNotEchoedButItsPageLineAndFieldAre() throws {
        let fixture = try baseline()
        let secret = "zelda.unique@example.com"
        let error = #expect(throws: PostgresError.self) {
            try fixture.load([
                LoaderFixture.page(
                    LoaderFixture.row(2, modstamp: "2024-02-01T00:00:00.000Z"),
                    LoaderFixture.row(3, modstamp: "2024-02-01T00:00:00.000Z", created: "31/02/2024 \(secret)"))
            ])
        }
        let text = String(describing: error) + (error?.context ?? "") + (error?.detail ?? "")
        #expect(!text.contains("zelda"), "\(text)")
        #expect(error?.message.hasPrefix("page 1, line 3, field CreatedDate (column created_date): ") == true, "\(text)")
        let stored = try storedMessages(fixture)
        #expect(stored.contains("page 1, line 3, field CreatedDate"), "\(stored)")
        #expect(!stored.contains("zelda"), "\(stored)")
    }

    @Test func aNotNullViolationDoesNotShowTheFailingRow() throws {
        let fixture = try baseline()
        try fixture.connection.execute("ALTER TABLE public.salesforce_contacts ALTER COLUMN email SET NOT NULL")
        let error = #expect(throws: PostgresError.self) {
            try fixture.load([
                LoaderFixture.page(
                    LoaderFixture.row(2, modstamp: "2024-02-01T00:00:00.000Z", first: "Zebedee", last: "Quillfeather",
                                      email: nil))
            ])
        }
        #expect(error?.sqlState == "23502")
        let text = String(describing: error) + (error?.detail ?? "")
        for value in ["Zebedee", "Quillfeather", "Failing row"] { #expect(!text.contains(value), "\(text)") }
        #expect(text.contains("\"email\""), "\(text)")
        // The record is named by its key instead.
        #expect(error?.message.hasPrefix("field Email (column email) is empty in Id \(LoaderFixture.id(2)), ") == true, "\(text)")
        let stored = try storedMessages(fixture)
        #expect(stored.contains("email"), "\(stored)")
        for value in ["Zebedee", "Quillfeather"] { #expect(!stored.contains(value), "\(stored)") }
    }

    @Test func aUniqueViolationNamesTheKeyColumnsButNotTheValue() throws {
        let fixture = try baseline()
        try fixture.connection.execute("CREATE UNIQUE INDEX contacts_email ON public.salesforce_contacts (email)")
        let error = #expect(throws: PostgresError.self) {
            try fixture.load([
                LoaderFixture.page(
                    LoaderFixture.row(2, modstamp: "2024-02-01T00:00:00.000Z", email: "twin.unique@example.com"),
                    LoaderFixture.row(3, modstamp: "2024-02-01T00:00:00.000Z", email: "twin.unique@example.com"))
            ])
        }
        #expect(error?.sqlState == "23505")
        #expect(error?.detail == "Key (email)=(…) already exists.", "\(String(describing: error))")
        #expect(!(try storedMessages(fixture)).contains("twin.unique"))
    }

    @Test func redactionKeepsNamesAndDropsValues() {
        #expect(RowContentRedaction.message("invalid input syntax for type integer: \"a \"b\" c\"", sqlState: "22P02")
            == "invalid input syntax for type integer: \"…\"")
        #expect(RowContentRedaction.message("value \"99999999999\" is out of range for type integer", sqlState: "22003")
            == "value \"…\" is out of range for type integer")
        #expect(RowContentRedaction.message("missing data for column \"title\"", sqlState: "22P04")
            == "missing data for column \"title\"")
        #expect(RowContentRedaction.message("relation \"x\" does not exist", sqlState: "42P01") == "relation \"x\" does not exist")
        #expect(RowContentRedaction.context("COPY sfpg_staging, line 3, column email: \"a@b.c\"")
            == "COPY sfpg_staging, line 3, column email: \"…\"")
        #expect(RowContentRedaction.context("COPY sfpg_staging, line 7: \"003,\"\"Ada\"\"\"")
            == "COPY sfpg_staging, line 7: \"…\"")
        #expect(RowContentRedaction.context("COPY sfpg_staging, line 7") == "COPY sfpg_staging, line 7")
        #expect(RowContentRedaction.detail("Failing row contains (003, Ada, null).", sqlState: "23502") == nil)
        #expect(RowContentRedaction.detail("Key (account_id)=(001x) is not present in table \"accounts\".", sqlState: "23503")
            == "Key (account_id)=(…) is not present in table \"accounts\".")
    }
}
