import Foundation
import PostgresLoader
import SettingsSyntax

/// Everything `sfpg-bench` takes from its environment: the one place it reads it, by the same rule as `sfpg`
/// (trimmed; blank means unset), so a benchmark connects exactly as a run would.
struct BenchSettings: Sendable {
    let source: SettingsSource

    /// The process environment, read on first use.
    static let process = BenchSettings(source: SettingsSource(ProcessInfo.processInfo.environment))

    /// `DATABASE_URL`; without it (and `--database-url`) libpq reads its own `PG*` variables.
    var databaseURL: String? { source["DATABASE_URL"] }

    /// The `SFPG_PG_*` settings a run's connection would use.
    /// - Throws: `SettingError` naming the variable and the accepted forms.
    func postgres() throws -> PostgresSettings {
        try PostgresSettings(source)
    }
}
