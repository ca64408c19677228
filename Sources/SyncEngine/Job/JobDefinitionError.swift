/// A job file that cannot be run: names the file, the key and what to change.
public struct JobDefinitionError: Error, CustomStringConvertible, Sendable {
    public var file: String
    /// The key path inside the file, e.g. `fields.Email`; empty for the file as a whole.
    public var key: String
    public var line: Int?
    public var problem: String

    public init(file: String, key: String, line: Int? = nil, problem: String) {
        self.file = file
        self.key = key
        self.line = line
        self.problem = problem
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.isEmpty ? "\(place): \(problem)" : "\(place): '\(key)': \(problem)"
    }
}
