import Foundation
import Logging
import Synchronization

/// Bootstraps swift-log once per process: human-readable or JSON lines, always on stderr (stdout is for output).
enum LoggingSetup {
    /// The format chosen by the first bootstrap; nil before it.
    private static let chosen = Mutex<LogFormat?>(nil)

    /// The log format in use: `.text` until a command bootstrapped logging.
    static var format: LogFormat { chosen.withLock { $0 } ?? .text }

    static func bootstrap(level: Logger.Level, format: LogFormat) {
        let first = chosen.withLock { chosen in
            defer { if chosen == nil { chosen = format } }
            return chosen == nil
        }
        guard first else { return }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler
            switch format {
            case .text: handler = StreamLogHandler.standardError(label: label)
            case .json: handler = JSONLogHandler(label: label)
            }
            handler.logLevel = level
            return handler
        }
    }
}

/// One JSON object per line: timestamp, level, label, message and the metadata keys as they are.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 })
        Self.write(level: event.level, label: label, message: "\(event.message)", fields: merged.mapValues(Self.json))
    }

    /// A metadata value as JSON: a number or flag logged as a value (`.stringConvertible(count)`) stays a JSON
    /// number or boolean, so a collector can sum and compare it; anything else is its text. Typed at the call site,
    /// not guessed from the text, so one key never changes its JSON type between lines (a collector's index would
    /// reject the second type).
    static func json(_ value: Logger.MetadataValue) -> Any {
        guard case .stringConvertible(let convertible) = value else { return "\(value)" }
        switch convertible {
        case let flag as Bool: return flag
        case let integer as any BinaryInteger: return Int64(exactly: integer) ?? "\(value)"
        case let real as Double where real.isFinite: return real
        default: return "\(value)"
        }
    }

    /// One JSON line on stderr; the `ts`, `level`, `logger` and `message` keys win over metadata of those names.
    static func write(level: Logger.Level, label: String, message: String, fields: [String: Any] = [:]) {
        var object = fields
        object["ts"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        object["level"] = level.rawValue
        object["logger"] = label
        object["message"] = message
        guard var data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        data.append(0x0A)
        FileHandle.standardError.write(data)
    }
}

/// The lines sfpg writes to stderr itself (the final error, a signal notice, what `describe` wrote): plain text
/// for people, or with `--log-format json` one JSON object per line like every log record, so a log collector
/// never meets a line it cannot parse.
enum Console {
    static func write(_ level: Logger.Level, _ message: String) {
        switch LoggingSetup.format {
        case .text: FileHandle.standardError.write(Data((message + "\n").utf8))
        case .json: JSONLogHandler.write(level: level, label: "sfpg", message: message)
        }
    }
}
