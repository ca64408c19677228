import Foundation
import TestSupport

/// A directory under the system temp dir, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws { path = try ScratchDirectory.make("sfpg-client-tests") }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

extension String {
    func write(toFile path: String) throws {
        try write(toFile: path, atomically: true, encoding: .utf8)
    }
}
