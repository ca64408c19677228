/// Picks the jobs a command names out of a jobs directory, validating every file first, each on its own and
/// against the others (names, tables), so that one broken file is reported before anything runs, even when the
/// command names other jobs.
public enum JobSelection {
    public static func load(directory: String, names: [String]) throws -> [JobDefinition] {
        let all = try JobDefinition.loadAll(directory: directory)
        if names.isEmpty { return all }
        return try names.map { name in
            guard let job = all.first(where: { $0.name == name }) else {
                throw JobDefinitionError(
                    file: directory, key: "",
                    problem: "no job named '\(name)'; jobs here: \(all.map(\.name).joined(separator: ", "))"
                )
            }
            return job
        }
    }
}
