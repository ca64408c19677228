import Foundation
import Synchronization

/// A private PostgreSQL cluster for tests and demos: `initdb` in a fresh temporary directory, `pg_ctl start` on a
/// unix socket only (no TCP), durability off for speed. ``stop()`` (or `deinit`) stops it and deletes the directory.
///
/// When running as root, `initdb` and the server run as the `postgres` OS user (initdb refuses root).
public final class ThrowawayPostgres: Sendable {
    /// The cluster directory; holds `data/`, `socket/` and `server.log`.
    public let directory: String
    public let port: Int
    private let binDirectory: String
    private let runAsPostgres: Bool
    private let running = Mutex(true)

    /// Creates and starts a cluster.
    /// - Parameter directory: where to put it; default a new directory under the system temp dir.
    /// - Throws: `PostgresError` `.configuration` if `initdb`/`pg_ctl` are missing or fail (with their output).
    public init(directory: String? = nil) throws {
        binDirectory = try Self.findBinDirectory()
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
        // The postgres user must reach the directory: make it and its parents traversable, and hand it over.
        try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: self.directory)
        try fileManager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory + "/socket")
        if runAsPostgres {
            try Self.run("/bin/chown", ["-R", "postgres", self.directory], asPostgres: false)
        }
        do {
            try Self.run(
                binDirectory + "/initdb",
                ["-D", directory + "/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                asPostgres: runAsPostgres)
            let options = [
                "-p \(port)", "-k \(directory)/socket", "-c listen_addresses=''", "-c fsync=off",
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

    static func findBinDirectory() throws -> String {
        var candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        candidates.append("/usr/local/bin")
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
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool) throws {
        let process = Process()
        if asPostgres {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--", executable] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // pg_ctl start leaves the server holding inherited descriptors, so read until the tool exits, not EOF.
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let data = output.fileHandleForReading.availableData
            let text = String(decoding: data, as: UTF8.self)
            let name = (executable as NSString).lastPathComponent
            throw PostgresError(
                .configuration, "\(name) failed with status \(process.terminationStatus): \(text.suffix(2000))")
        }
    }
}
