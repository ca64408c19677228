import ArgumentParser
import Foundation

@main
struct Sfpg: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sfpg",
        abstract: "Copy Salesforce objects into PostgreSQL: Bulk API 2.0 → COPY → one merge, committed with the watermark.",
        discussion: """
            Salesforce credentials come from SF_* environment variables (see README); PostgreSQL from \
            --database-url, DATABASE_URL or libpq's PG* variables.

            Exit codes: 0 success, 1 sync failed, 2 configuration error, 3 Salesforce authentication failed, \
            4 database unreachable, 5 another run holds the job's lock, 6 Salesforce API limit reached, \
            7 verify found drift it did not repair, \
            130 cancelled (SIGINT/SIGTERM), 64 bad command line.
            """,
        version: BuildInfo.description,
        subcommands: [Run.self, Plan.self, Verify.self, Migrate.self, Check.self, Status.self, Describe.self, History.self, ServeCommand.self, Demo.self]
    )

    /// Hardens the process (no core dumps: see `ProcessHardening`) before any secret is read, then runs the command
    /// as ArgumentParser's `main` would, except that with `--log-format json` its own error messages (an unknown
    /// option, a `ValidationError`) are a JSON line too, like everything else on stderr.
    static func main() {
        ProcessHardening.apply()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code != .success, !(error is ExitCode), requestsJSONLogs(CommandLine.arguments) {
                JSONLogHandler.write(level: .error, label: "sfpg", message: message(for: error))
                Foundation.exit(code.rawValue)
            }
            exit(withError: error)
        }
    }

    /// Whether the command line asks for JSON logs, read without the parser (which may be what failed).
    static func requestsJSONLogs(_ arguments: [String]) -> Bool {
        zip(arguments, arguments.dropFirst()).contains { $0 == "--log-format" && $1 == "json" }
            || arguments.contains("--log-format=json")
    }
}
