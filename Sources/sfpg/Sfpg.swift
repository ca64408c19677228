import ArgumentParser

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
            130 cancelled (SIGINT/SIGTERM), 64 bad command line.
            """,
        version: BuildInfo.description,
        subcommands: [Run.self, Migrate.self, Check.self, Status.self, Describe.self, History.self, Demo.self]
    )
}
