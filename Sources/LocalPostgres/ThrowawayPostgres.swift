import Foundation
import PostgresLoader
import Synchronization

/// A private PostgreSQL cluster for tests and demos: `initdb` in a fresh temporary directory, `pg_ctl start` on a
/// unix socket only (no TCP), durability off for speed. ``stop()`` (or `deinit`) stops it and deletes the directory.
///
/// When running as root, `initdb` and the server run as the `postgres` OS user (initdb refuses root).
///
/// The cluster trusts every connection as superuser, so who can reach its socket is the whole access control: the
/// socket lives in a directory only the server's OS user may enter (mode 0700; root gets in regardless), the socket
/// itself is 0700, and `listen_addresses` is empty, so no other local user and nothing on the network can connect.
public final class ThrowawayPostgres: Sendable {
    /// The cluster directory; holds `data/`, `socket/` and `server.log`.
    public let directory: String
    public let port: Int
    private let binDirectory: String
    private let runAsPostgres: Bool
    private let running = Mutex(true)

    /// Creates and starts a cluster.
    /// - Parameters:
    ///   - directory: where to put it; default a new directory under the system temp dir.
    ///   - searchPath: directories to look for `initdb` and `pg_ctl` in first (the caller's `PATH`), before
    ///     `/usr/local/bin` and `/usr/lib/postgresql/*/bin`.
    /// - Throws: `PostgresError` `.configuration` if `initdb`/`pg_ctl` are missing or fail (with their output).
    public init(directory: String? = nil, searchPath: [String] = []) throws {
        binDirectory = try Self.findBinDirectory(searchPath: searchPath)
        runAsPostgres = getuid() == 0
        let fileManager = FileManager.default
        if let directory {
            try fileManager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            self.directory = directory
        } else {
            var template = Array((NSTemporaryDirectory() + "/sfpg-pg-XXXXXX").utf8CString)
            guard let created = mkdtemp(&template) else {
                throw PostgresError(.configuration, "could not create a temporary directory for PostgreSQL")
            }
            self.directory = String(cString: created)
        }
        port = Int.random(in: 20_000...60_000)
        let directory = self.directory
        try fileManager.createDirectory(atPath: directory + "/socket", withIntermediateDirectories: true)
        // The postgres user must reach the directory: traversable (not listable) by others when the server runs as
        // postgres, private otherwise. The socket directory is the server user's alone (see the type's comment).
        try fileManager.setAttributes([.posixPermissions: runAsPostgres ? 0o711 : 0o700], ofItemAtPath: self.directory)
        try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory + "/socket")
        if runAsPostgres {
            try Self.run("/bin/chown", ["-R", "postgres", self.directory], asPostgres: false)
        }
        do {
            try Self.run(
                binDirectory + "/initdb",
                ["-D", directory + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                asPostgres: runAsPostgres)
            let options = [
                "-p \(port)", "-k \(directory)/socket", "-c listen_addresses=''", "-c unix_socket_permissions=0700",
                "-c fsync=off",
                "-c full_page_writes=off", "-c synchronous_commit=off", "-c max_connections=200",
            ].joined(separator: " ")
            try Self.run(
                binDirectory + "/pg_ctl",
                ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-o", options, "start"],
                asPostgres: runAsPostgres)
        } catch {
            try? fileManager.removeItem(atPath: self.directory)
            throw error
        }
    }

    deinit {
        stop()
    }

    /// A libpq connection string for the `postgres` database as superuser `postgres`.
    public var conninfo: String {
        "host='\(directory)/socket' port=\(port) user=postgres dbname=postgres"
    }

    /// Stops the server (`pg_ctl stop -m fast`) and removes the directory. Safe to call more than once.
    public func stop() {
        let wasRunning = running.withLock { running in
            defer { running = false }
            return running
        }
        guard wasRunning else { return }
        try? Self.run(
            binDirectory + "/pg_ctl", ["-D", directory + "/data", "-w", "-m", "fast", "stop"], asPostgres: runAsPostgres)
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func findBinDirectory(searchPath: [String]) throws -> String {
        var candidates = searchPath + ["/usr/local/bin"]
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin" }
        }
        for candidate in candidates
        where FileManager.default.isExecutableFile(atPath: candidate + "/initdb")
            && FileManager.default.isExecutableFile(atPath: candidate + "/pg_ctl")
        {
            return candidate
        }
        throw PostgresError(
            .configuration, "initdb and pg_ctl not found in PATH, /usr/local/bin or /usr/lib/postgresql/*/bin",
            hint: "Install the PostgreSQL server package (e.g. apt-get install postgresql).")
    }

    /// Runs a tool to completion, as the postgres user if asked; a nonzero exit throws with its output.
    ///
    /// posix_spawn + waitpid rather than Foundation `Process`: under the test runner `Process.waitUntilExit`
    /// was seen never to return after `pg_ctl start` (the child stayed a zombie), and a pipe would be
    /// inherited by the server. Output goes to a file next to the cluster instead.
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool) throws {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments
            : [executable] + arguments
        let outputPath = NSTemporaryDirectory() + "/sfpg-pgtool-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        let name = (executable as NSString).lastPathComponent
        guard spawned == 0 else {
            throw PostgresError(.configuration, "could not start \(name): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        // WIFEXITED/WEXITSTATUS are macros Swift does not import.
        let exited = status & 0x7f == 0
        let exitCode = (status >> 8) & 0xff
        guard exited && exitCode == 0 else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw PostgresError(
                .configuration, "\(name) failed (wait status \(status)): \(text.suffix(2000))")
        }
    }
}
