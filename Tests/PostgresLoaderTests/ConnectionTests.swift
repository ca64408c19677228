import Foundation
import PostgresLoader
import Synchronization
import Testing
import TestSupport

@Suite struct ConnectionTests {
    @Test func serverErrorsCarrySQLStateDetailAndContext() throws {
        let connection = try PostgresConnection(try TestPostgres.makeDatabase())
        #expect(connection.serverVersion >= 140_000)
        let division = #expect(throws: PostgresError.self) { try connection.execute("SELECT 1 / $1::int", ["0"]) }
        #expect(division?.sqlState == "22012")
        #expect(division?.code == .query)
        try connection.executeScript(
            "CREATE FUNCTION boom() RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
                + "RAISE EXCEPTION 'boom' USING DETAIL = 'the detail', HINT = 'the hint'; END $$;")
        let raised = #expect(throws: PostgresError.self) { try connection.execute("SELECT boom()") }
        #expect(raised?.message == "boom")
        #expect(raised?.detail == "the detail")
        #expect(raised?.hint == "the hint")
        #expect(raised?.context?.contains("PL/pgSQL function boom()") == true)
        let result = try connection.execute("SELECT $1::text AS a, NULL::int AS b", ["x"])
        #expect(result[0, "a"] == "x")
        #expect(result[0, "b"] == nil)
        #expect(result.columns == ["a", "b"])
    }

    @Test func connectionErrorsNeverShowThePassword() throws {
        let base = try TestPostgres.makeDatabase()
        let conninfo = try PostgresConnection.conninfo(
            base, overriding: ["user": "no_such_user", "password": "hunter2-secret"])
        let error = #expect(throws: PostgresError.self) { _ = try PostgresConnection(conninfo) }
        #expect(error?.code == .configuration)
        #expect(error?.description.contains("hunter2-secret") == false)
        #expect(error?.description.contains("no_such_user") == true)
        let uriError = #expect(throws: PostgresError.self) {
            _ = try PostgresConnection("postgresql://u:hunter2-secret@/nodb?host=/nonexistent-dir")
        }
        #expect(uriError?.description.contains("hunter2-secret") == false)
    }

    @Test func applicationNameAndKeepalivesDefaultButYieldToTheConnectionString() throws {
        let base = try TestPostgres.makeDatabase()
        let connection = try PostgresConnection(base)
        #expect(try connection.execute("SHOW application_name").rows == [["sfpg"]])
        let named = try PostgresConnection(base + " application_name=custom")
        #expect(try named.execute("SHOW application_name").rows == [["custom"]])
    }

    @Test func cancellerInterruptsARunningStatement() throws {
        let connection = try PostgresConnection(try TestPostgres.makeDatabase())
        let canceller = connection.makeCanceller()
        let done = Atomic<Bool>(false)
        let thread = Thread {
            while !done.load(ordering: .relaxed) {
                canceller.cancel()
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        thread.start()
        let error = #expect(throws: PostgresError.self) { try connection.execute("SELECT pg_sleep(30)") }
        done.store(true, ordering: .relaxed)
        #expect(error?.sqlState == "57014")
        #expect(try connection.execute("SELECT 1").rows == [["1"]])
    }
}
