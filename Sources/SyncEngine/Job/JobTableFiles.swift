import Foundation
import PostgresLoader

/// The `<job>.sql` files that give jobs their target tables (see ``Migrator/migrate(_:jobTables:)``).
public enum JobTableFiles {
    /// The `<job>.sql` files of the jobs in `directory` (one per `*.yaml`/`*.yml` that has one), sorted.
    /// A missing directory is an error only when `required` (it was given explicitly).
    public static func ddlFiles(in directory: String, required: Bool) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            if required {
                throw PostgresError(.configuration, "cannot read the jobs directory '\(directory)'",
                                    hint: "Pass --jobs-directory DIR (or set SFPG_JOBS_DIR).")
            }
            return []
        }
        let set = Set(names)
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .map { ($0 as NSString).deletingPathExtension + ".sql" }
            .filter { set.contains($0) }
            .sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }
}
