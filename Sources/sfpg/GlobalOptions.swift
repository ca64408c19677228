import ArgumentParser
import Foundation
import Logging
import PostgresLoader
import SyncEngine

/// Options every command that touches PostgreSQL or logs takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "PostgreSQL connection URI or libpq conninfo. Default: $DATABASE_URL, else libpq's PG* variables.")
    var databaseURL: String?

    @OptionGroup var logging: LogOptions

    /// The conninfo for libpq; "" lets libpq read PGHOST, PGUSER, … and ~/.pgpass itself.
    var conninfo: String {
        databaseURL ?? Settings.process.databaseURL ?? ""
    }

    func makeLogger(label: String = "sfpg") -> Logger {
        logging.makeLogger(label: label)
    }

    func connect() throws -> PostgresConnection {
        CommandLinePassword.warnIfPresent(databaseURL, logger: makeLogger())
        return try PostgresConnection(conninfo, settings: try Settings.process.postgres())
    }
}

/// The logging options alone, for a command that must not take `GlobalOptions`' database default (`sfpg demo`).
struct LogOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: """
        Log format: text (for people) or json (one object per line, for log collectors). \
        Default: text when stderr is a terminal, else json (containers, cron, systemd).
        """)
    var logFormat: LogFormat?

    /// `--log-format`, else JSON unless stderr is a terminal: a job runner's log collector gets parseable lines.
    var effectiveLogFormat: LogFormat { logFormat ?? (isatty(STDERR_FILENO) == 1 ? .text : .json) }

    func makeLogger(label: String = "sfpg") -> Logger {
        LoggingSetup.bootstrap(level: logLevel, format: effectiveLogFormat)
        return Logger(label: label)
    }
}

enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Turns any error into the documented exit code after printing its user-facing description.
func failureExit(_ error: any Error) -> ExitCode {
    if let error = error as? ExitCode { return error }
    switch LoggingSetup.format {
    case .text: Console.write(.error, "error: \(error)")
    case .json: Console.write(.error, "\(error)")
    }
    return ExitCode(ExitStatus(for: error).rawValue)
}

/// Prints a result line and flushes it, so results on stdout keep their place among log lines on stderr even
/// when both go to one pipe.
func say(_ text: String) {
    print(text)
    fflush(nil)
}
