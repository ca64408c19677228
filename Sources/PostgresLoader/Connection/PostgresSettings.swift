import SettingsSyntax

/// How sfpg's connections wait on PostgreSQL, built by the executable's settings reader from `SFPG_PG_*`.
///
/// The defaults are what a connection gets without settings. Durations use ``DurationSyntax``; values reach libpq
/// and `set_config` in PostgreSQL's own units.
public struct PostgresSettings: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The setting names, in one place for the reader, the README and error hints.
    public enum Name {
        /// libpq `connect_timeout`; default 10 s, or libpq's own `PGCONNECT_TIMEOUT` when that is set and this is not.
        public static let connectTimeout = "SFPG_PG_CONNECT_TIMEOUT"
        /// libpq `tcp_user_timeout`: how long written data may stay unacknowledged; default 60 s.
        public static let tcpUserTimeout = "SFPG_PG_TCP_USER_TIMEOUT"
        /// The run's `lock_timeout` (`0` waits forever); default 5 min.
        public static let lockTimeout = "SFPG_PG_LOCK_TIMEOUT"
        /// The merge transaction's `work_mem` (`256MB`, `64MB`, `1GB`).
        public static let mergeWorkMem = "SFPG_PG_MERGE_WORK_MEM"
    }

    /// Bounds a connect to a host that drops packets (libpq waits forever by default); `nil` adds no
    /// `connect_timeout`, so libpq's own `PGCONNECT_TIMEOUT` applies.
    public var connectTimeout: Duration? = .seconds(10)
    /// Bounds a write to a peer that stopped acknowledging (keepalives only probe an idle connection).
    public var tcpUserTimeout: Duration = .seconds(60)
    /// A merge that waits longer than this for the target table (someone's `ALTER TABLE`, `LOCK`, `VACUUM FULL`, a
    /// long transaction holding its rows) fails with a clear message instead of hanging the schedule; 0: no limit.
    public var lockTimeout: Duration = .seconds(300)
    /// Measured on a 200k-row re-sync (scripts/bench-sync's table): with PostgreSQL's default 4MB the dedup sort
    /// spilled 75 MB to disk. A ceiling, not an allocation, and only for sfpg's own transaction.
    public var mergeWorkMem = "256MB"
    /// The password libpq takes from its environment (`PGPASSWORD`), so its messages can be scrubbed of it too.
    public var environmentPassword: String?

    public init() {}

    /// Reads the `SFPG_PG_*` settings (and whether libpq's `PGCONNECT_TIMEOUT` is set, and `PGPASSWORD`).
    /// - Throws: ``SettingError`` naming the setting and the accepted forms.
    public init(_ settings: SettingsSource) throws(SettingError) {
        if let value = try settings.duration(Name.connectTimeout) {
            connectTimeout = value
        } else if settings["PGCONNECT_TIMEOUT"] != nil {
            // libpq reads PGCONNECT_TIMEOUT only for a parameter nobody set: a default here would override it.
            connectTimeout = nil
        }
        // PostgreSQL and libpq read a bare number in these two as milliseconds; refusing one beats guessing.
        if let text = settings[Name.tcpUserTimeout] {
            tcpUserTimeout = try DurationSyntax.parse(text, setting: Name.tcpUserTimeout, unitRequired: true)
        }
        if let text = settings[Name.lockTimeout] {
            lockTimeout = try DurationSyntax.parse(text, setting: Name.lockTimeout, unitRequired: true)
        }
        if let text = settings[Name.mergeWorkMem] {
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 9, ["kB", "MB", "GB"].contains(String(text.dropFirst(digits.count)))
            else { throw SettingError(setting: Name.mergeWorkMem, value: text, expected: "a size such as 64MB or 1GB") }
            mergeWorkMem = text
        }
        environmentPassword = settings["PGPASSWORD"]
    }

    /// The settings without the password.
    public var description: String {
        "PostgresSettings(connectTimeout: \(connectTimeout.map(DurationSyntax.format) ?? "libpq"), tcpUserTimeout: "
            + "\(DurationSyntax.format(tcpUserTimeout)), lockTimeout: \(DurationSyntax.format(lockTimeout)), "
            + "mergeWorkMem: \(mergeWorkMem))"
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and reflection from printing the password.
    public var customMirror: Mirror { Mirror(self, children: ["settings": description]) }

    /// The libpq parameters sfpg adds unless the connection string sets them. Keepalives stop a blocking
    /// `PQputCopyData` from hanging forever on a dead peer; UTF8 matches what the Bulk API sends.
    var connectionParameters: [(String, String)] {
        var parameters = [
            ("keepalives", "1"), ("keepalives_idle", "30"), ("keepalives_interval", "10"), ("keepalives_count", "6"),
            ("tcp_user_timeout", String(Self.milliseconds(tcpUserTimeout))), ("client_encoding", "UTF8"),
        ]
        if let connectTimeout {
            // libpq counts whole seconds: round up, so 1500ms does not become 1 s.
            parameters.append(("connect_timeout", String((Self.milliseconds(connectTimeout) + 999) / 1000)))
        }
        return parameters
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
