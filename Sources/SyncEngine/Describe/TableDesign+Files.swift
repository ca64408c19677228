import Foundation
import PostgresLoader

/// `sfpg describe --write-job`: the job file and, beside it, the `<job>.sql` that `sfpg migrate` applies for it
/// (``JobTableFiles``), both written only once every check has passed.
extension TableDesign {
    /// `CREATE SCHEMA IF NOT EXISTS` for a table in a schema other than `public`, then ``createTableSQL``: what
    /// `--apply` runs and `<job>.sql` holds, so a fresh database gets the schema too. (Not for `public`: even with
    /// IF NOT EXISTS, CREATE SCHEMA needs the CREATE privilege on the database.)
    public var ddl: String {
        let schema = table.schema.flatMap { $0 == "public" ? nil : $0 }
        return (schema.map { "CREATE SCHEMA IF NOT EXISTS \(SQLIdentifier.quote($0));\n" } ?? "") + createTableSQL
    }

    /// The `<job>.sql` beside a job file.
    public static func ddlPath(forJobFile path: String) -> String {
        (path as NSString).deletingPathExtension + ".sql"
    }

    /// Fails, before anything is written, when the job file or its `<job>.sql` exists (unless `force`) or when the
    /// nearest existing directory on the way to it is not a directory the files can be created in.
    /// - Throws: ``SyncError`` (exit 2) naming the file or directory.
    public static func checkJobFiles(at path: String, force: Bool) throws {
        let files = FileManager.default
        for file in [path, ddlPath(forJobFile: path)] where !force && files.fileExists(atPath: file) {
            throw SyncError(
                "\(file) already exists; nothing was written (--force overwrites it)", exitStatus: .configuration)
        }
        let directory = (path as NSString).deletingLastPathComponent
        var existing = directory.isEmpty ? "." : directory
        var isDirectory: ObjCBool = false
        while !files.fileExists(atPath: existing, isDirectory: &isDirectory) {
            existing = (existing as NSString).deletingLastPathComponent
            if existing.isEmpty { existing = "." }
        }
        guard isDirectory.boolValue, files.isWritableFile(atPath: existing) else {
            throw SyncError(
                "cannot write \(path): \(existing) is not a writable directory; nothing was written",
                exitStatus: .configuration)
        }
    }

    /// Creates the job file's directory (with its parents), then writes the job file and its `<job>.sql`.
    /// - Returns: the paths written.
    public func writeJobFiles(to path: String) throws -> [String] {
        let sqlPath = Self.ddlPath(forJobFile: path)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        let sql = "-- Target table of \(YAMLText.singleLine(name)), applied by `sfpg migrate` when the job is in the "
            + "jobs directory. Idempotent: it runs on every migrate.\n" + ddl
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            try jobYAML.write(toFile: path, atomically: true, encoding: .utf8)
            try sql.write(toFile: sqlPath, atomically: true, encoding: .utf8)
        } catch {
            throw SyncError(
                "cannot write \(path) and \(sqlPath): \(error.localizedDescription)", exitStatus: .configuration)
        }
        return [path, sqlPath]
    }
}
