import Logging
import Synchronization

/// Keeps every log line in memory (message, then its metadata as `key=value`): a test's own handler, never
/// bootstrapped globally.
public final class CapturedLog: Sendable {
    public let lines = Mutex<[(Logger.Level, String)]>([])

    public init() {}

    public var logger: Logger { Logger(label: "test") { _ in Handler(storage: self) } }

    /// How many lines begin with `message`.
    public func count(_ message: String) -> Int { lines.withLock { $0.filter { $0.1.hasPrefix(message) }.count } }

    private struct Handler: LogHandler {
        let storage: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let text = "\(event.message) " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            storage.lines.withLock { $0.append((event.level, text)) }
        }
    }
}
