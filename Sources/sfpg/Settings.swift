import Foundation
import PostgresLoader
import PubSubClient
import SalesforceClient
import SettingsSyntax
import SyncEngine

/// Everything `sfpg` takes from its environment: the one place the executable reads it.
///
/// One rule for every variable (``SettingsSource``): surrounding spaces and line breaks are trimmed, and a value
/// that is empty after trimming counts as unset. Commands read ``process`` once and pass typed values down
/// (`SalesforceConfiguration`, `PostgresSettings`, paths); the libraries never read the environment. A flag given
/// on the command line wins over its variable. README's settings table lists every name read here.
struct Settings: Sendable {
    let source: SettingsSource

    init(environment: [String: String]) {
        source = SettingsSource(environment)
    }

    /// The process environment, read on first use.
    static let process = Settings(environment: ProcessInfo.processInfo.environment)

    /// `DATABASE_URL`; without it (and `--database-url`) libpq reads its own `PG*` variables.
    var databaseURL: String? { source["DATABASE_URL"] }
    /// `SFPG_JOBS_DIR` (the container image sets `/etc/sfpg/jobs`), else `jobs`.
    var jobsDirectory: String { source["SFPG_JOBS_DIR"] ?? "jobs" }
    /// `SFPG_SHARD_RUN`: the name of the sharded run a `--shard` joins.
    var shardRun: String? { source["SFPG_SHARD_RUN"] }
    /// `SFPG_PUSHGATEWAY_URL`: where `sfpg run` pushes its metrics.
    var pushgatewayURL: String? { source["SFPG_PUSHGATEWAY_URL"] }
    /// `SFPG_METRICS_FILE`: the node-exporter textfile `sfpg run` writes.
    var metricsFile: String? { source["SFPG_METRICS_FILE"] }
    /// `SFPG_SERVE_TOKEN`: the bearer token of `sfpg serve`'s POST endpoints (secret); unset turns them off.
    var serveToken: String? { source["SFPG_SERVE_TOKEN"] }

    /// `SFPG_API_BUDGET` (or `--api-budget`, which wins): the run's `api_budget` as a fraction.
    /// - Throws: `SettingError` naming the setting and the accepted forms.
    func apiBudget(flag: String?) throws -> Double? {
        if let flag { return try PercentSyntax.budget(flag, setting: "--api-budget") }
        return try source["SFPG_API_BUDGET"].map { text throws(SettingError) in
            try PercentSyntax.budget(text, setting: "SFPG_API_BUDGET")
        }
    }

    /// `SFPG_RESUME_MIN_RECORDS`: from how many records a run stages resumably (README, "Resume"); set, it applies to
    /// first loads into empty tables too.
    /// - Throws: `SettingError` for anything but a positive whole number.
    func resumeMinRecords() throws -> ResumeThreshold {
        try source.positiveInteger("SFPG_RESUME_MIN_RECORDS", unit: "records").map(ResumeThreshold.init(records:))
            ?? SyncRunner.defaultResumeMinRecords
    }

    /// The `SF_*` settings (and `SFPG_SPOOL_DIR`, `TMPDIR`, `CURL_CA_BUNDLE`, `SSL_CERT_FILE`) as the client's
    /// configuration.
    /// - Throws: `SalesforceError` `.configuration` naming the variables to set or fix.
    /// - Parameter spoolDir: `--spool-dir`, which wins over `SFPG_SPOOL_DIR` and `TMPDIR`.
    func salesforce(spoolDir: String? = nil) throws -> SalesforceConfiguration {
        var configuration = try SalesforceConfiguration.fromSettings(source)
        if let spoolDir {
            configuration.spoolDirectory = spoolDir
            configuration.spoolDirectorySetting = "--spool-dir"
        }
        return configuration
    }

    /// `SF_PUBSUB_ENDPOINT`: where change events stream from (Salesforce's `api.pubsub.salesforce.com:7443`, TLS
    /// verified against the CA bundle of `SF_CA_BUNDLE`, `CURL_CA_BUNDLE` or `SSL_CERT_FILE`, else the system's).
    /// - Throws: `SettingError` naming the variable and the accepted forms.
    func pubSubEndpoint() throws -> PubSubEndpoint {
        try PubSubEndpoint(
            source["SF_PUBSUB_ENDPOINT"] ?? PubSubEndpoint.salesforce,
            caBundlePath: source.first("SF_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"))
    }

    /// The `SFPG_PG_*` settings (and `PGCONNECT_TIMEOUT`, `PGPASSWORD` for scrubbing) for every connection.
    /// - Throws: `SettingError` naming the variable and the accepted forms.
    func postgres() throws -> PostgresSettings {
        try PostgresSettings(source)
    }

    /// The names of `DATABASE_URL` and every `PG…` variable in the process environment, for `sfpg demo` to remove
    /// before anything reads them (see `DemoIsolation`).
    static func libpqVariableNames() -> [String] {
        ProcessInfo.processInfo.environment.keys
            .filter { $0 == "DATABASE_URL" || $0.hasPrefix("PG") }
            .sorted()
    }
}

extension Settings {
    /// `PATH`'s directories, where `sfpg demo` looks for `initdb` and `pg_ctl` first.
    var executableSearchPath: [String] {
        (source["PATH"] ?? "").split(separator: ":").map(String.init)
    }
}
