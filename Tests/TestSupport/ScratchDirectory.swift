import Foundation
import Synchronization

/// Temporary directories a test leaves for the end of the test process (a failed expectation must not skip the
/// clean-up, and a later step of the same test may still read them), removed then.
public enum ScratchDirectory {
    private static let made = Mutex<[String]?>(nil)

    /// A new path under the temporary directory, `<prefix>-<uuid>`, created unless `create` is false.
    public static func make(_ prefix: String, create: Bool = true) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        if create { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        made.withLock { paths in
            if paths == nil { atexit { ScratchDirectory.removeAll() } }
            paths = (paths ?? []) + [path]
        }
        return path
    }

    private static func removeAll() {
        for path in made.withLock({ $0 ?? [] }) { try? FileManager.default.removeItem(atPath: path) }
    }
}
