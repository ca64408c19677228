import Foundation
import LocalPostgres
import PostgresLoader
import Synchronization

/// Fresh, isolated PostgreSQL databases for tests.
///
/// With `SFPG_TEST_DATABASE_URL` set (a libpq URI or `key=value` string for a server where the user may
/// `CREATE DATABASE`), databases are created there. Otherwise one ``ThrowawayPostgres`` cluster is started lazily
/// per test process and stopped when the process exits.
public enum TestPostgres {
    private static let cluster = Mutex<ThrowawayPostgres?>(nil)
    private static let counter = Atomic<Int>(0)

    /// Creates a new, uniquely named, empty database and returns its connection string.
    public static func makeDatabase() throws -> String {
        let admin = try adminConninfo()
        let name = "sfpg_test_\(getpid())_\(counter.add(1, ordering: .relaxed).newValue)_\(UInt32.random(in: 0...UInt32.max))"
        let connection = try PostgresConnection(admin, applicationName: "sfpg-tests")
        try connection.execute("CREATE DATABASE \(SQLIdentifier.quote(name))")
        return try PostgresConnection.conninfo(admin, overriding: ["dbname": name])
    }

    /// A fresh database with sfpg's migrations applied, and a connection to it.
    public static func makeMigratedDatabase() throws -> (conninfo: String, connection: PostgresConnection) {
        let conninfo = try makeDatabase()
        let connection = try PostgresConnection(conninfo, applicationName: "sfpg-tests")
        try Migrator.migrate(connection)
        return (conninfo, connection)
    }

    private static func adminConninfo() throws -> String {
        if let url = ProcessInfo.processInfo.environment["SFPG_TEST_DATABASE_URL"], !url.isEmpty {
            return url
        }
        return try cluster.withLock { cluster in
            if let cluster { return cluster.conninfo }
            let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
            let started = try ThrowawayPostgres(searchPath: path.split(separator: ":").map(String.init))
            cluster = started
            atexit { TestPostgres.stopCluster() }
            return started.conninfo
        }
    }

    private static func stopCluster() {
        let server = cluster.withLock { cluster in
            defer { cluster = nil }
            return cluster
        }
        server?.stop()
    }
}
