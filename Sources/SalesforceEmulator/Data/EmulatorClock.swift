import Foundation
import Synchronization

/// The emulator's "now" in epoch milliseconds: wall-clock time plus an offset that the admin API can advance
/// (`POST /__emulator/clock {"advanceSeconds":…}`), so tests can reach what takes days on Salesforce (job expiry
/// after 7 days, the 15-day delete horizon, `LAST_N_DAYS`) in a second. Monotonic between advances.
final class EmulatorClock: Sendable {
    private let offset = Mutex<Int64>(0)
    private static let origin = ContinuousClock.now
    private static let wallOrigin = Int64(Date().timeIntervalSince1970 * 1000)

    func now() -> Int64 {
        Int64((ContinuousClock.now - Self.origin) / .milliseconds(1)) + Self.wallOrigin + offset.withLock { $0 }
    }

    func advance(seconds: Double) {
        offset.withLock { $0 += Int64(seconds * 1000) }
    }

    func reset() { offset.withLock { $0 = 0 } }
}
