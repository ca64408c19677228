import Foundation
import Logging
import PostgresLoader
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What sfpg does to its own process before anything else: no core dumps.
///
/// The process holds Salesforce tokens, the JWT private key, client secrets and the database password in memory; a
/// core file (written wherever `core_pattern` says, often readable by others or shipped to a crash collector) would
/// hold them too.
enum ProcessHardening {
    static func apply() {
        // RLIMIT_CORE 0 stops plain core files; a piped core_pattern (systemd-coredump, apport) ignores it, which
        // PR_SET_DUMPABLE 0 covers, and it also keeps other processes of the same user from ptrace or reading
        // /proc/<pid>/mem and environ.
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
        #if os(Linux)
        setUndumpable()
        #endif
    }

    #if os(Linux)
    /// `prctl(PR_SET_DUMPABLE, 0)`. `prctl` is variadic in C and Swift cannot call it directly; its kernel
    /// interface takes five register-sized arguments, so it is called through a pointer of that shape.
    private static func setUndumpable() {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        // A nil handle is RTLD_DEFAULT on glibc: the symbol as the process's libraries resolve it.
        guard let symbol = dlsym(nil, "prctl") else { return }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        let setDumpable: Int32 = 4  // PR_SET_DUMPABLE, <linux/prctl.h>
        _ = prctl(setDumpable, 0, 0, 0, 0)
    }
    #endif
}

/// A password on the command line is visible to every local user in `ps` and `/proc/<pid>/cmdline`; the
/// environment and password files are not.
enum CommandLinePassword {
    private static let warned = Mutex(false)

    /// Logs the warning once per process when `databaseURL` (an option's value) holds a password. The message names
    /// no part of the URL.
    static func warnIfPresent(_ databaseURL: String?, option: String = "--database-url", logger: Logger) {
        guard let databaseURL, PostgresConnection.containsPassword(databaseURL) else { return }
        let first = warned.withLock { warned in
            defer { warned = true }
            return !warned
        }
        guard first else { return }
        logger.warning(
            "\(option) contains a password, which every local user can read in the process list (ps); set DATABASE_URL, PGPASSWORD or a password file (~/.pgpass, or PGPASSFILE) instead")
    }
}
