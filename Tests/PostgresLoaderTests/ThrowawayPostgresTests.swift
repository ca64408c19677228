import Foundation
import LocalPostgres
import PostgresLoader
import Testing

/// The throwaway cluster trusts every connection as superuser, so only its owner (and root) may reach it.
@Suite struct ThrowawayPostgresTests {
    @Test func theClusterIsReachableOnlyThroughAPrivateSocket() throws {
        let cluster = try ThrowawayPostgres()
        defer { cluster.stop() }
        var socket = stat()
        #expect(stat(cluster.directory + "/socket", &socket) == 0)
        #expect(socket.st_mode & 0o777 == 0o700, "socket directory mode \(String(socket.st_mode & 0o777, radix: 8))")
        let owner = getuid() == 0 ? getpwnam("postgres").map { $0.pointee.pw_uid } : getuid()
        #expect(socket.st_uid == owner)
        var top = stat()
        #expect(stat(cluster.directory, &top) == 0)
        #expect(top.st_mode & 0o044 == 0, "cluster directory mode \(String(top.st_mode & 0o777, radix: 8))")

        let connection = try PostgresConnection(cluster.conninfo)
        #expect(try connection.execute("SHOW listen_addresses").rows == [[""]])
        #expect(try connection.execute("SHOW unix_socket_permissions").rows == [["0700"]])
    }
}
