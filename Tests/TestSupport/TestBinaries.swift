import Foundation
import Synchronization

/// Where SwiftPM put the package's executables (`sfpg`, `sfpg-emulator`, `sfpg-bench`), asked of SwiftPM itself
/// with `swift build --show-bin-path` once per test process, instead of guessing `.build/debug`: the triple
/// directory, `--scratch-path` and `-c release` all move it.
///
/// `SFPG_TEST_BIN_PATH` overrides the question (a CI that runs prebuilt test binaries without a toolchain).
/// `--ignore-lock`: `swift test` holds the `.build` lock while the tests run, and a second SwiftPM that waited for
/// it would wait forever.
public enum TestBinaries {
    /// The outcome of asking, kept for the whole test process (the answer cannot change while it runs).
    private static let cached = Mutex<[String: Result<String, LookupFailure>]>([:])

    public struct LookupFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The repository root, found from this file's path (`Tests/TestSupport/…`).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// The bin directory of `configuration` (`debug`, the configuration `swift test` builds, or `release`).
    public static func binPath(configuration: String = "debug") throws -> String {
        try cached.withLock { cache in
            if let known = cache[configuration] { return known }
            let found = lookUp(configuration: configuration)
            cache[configuration] = found
            return found
        }.get()
    }

    /// The path of the package executable `name` in the debug bin directory; throws, saying what to do, when
    /// the directory cannot be found or the executable was not built.
    public static func path(_ name: String) throws -> String {
        let path = try binPath() + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw LookupFailure(description: "\(path) is not built: run `swift build --build-tests` in \(repositoryRoot) first")
        }
        return path
    }

    private static func lookUp(configuration: String) -> Result<String, LookupFailure> {
        if let override = ProcessInfo.processInfo.environment["SFPG_TEST_BIN_PATH"], !override.isEmpty {
            return .success(override)
        }
        let command = ["build", "--show-bin-path", "--ignore-lock", "-c", configuration, "--package-path", repositoryRoot]
        let advice = "; set SFPG_TEST_BIN_PATH to the directory holding sfpg, or put `swift` on PATH"
        do {
            let swift = try TestSyncProcess.which("swift")
            let result = try TestSyncProcess.run(swift, command, environment: [:], timeout: .seconds(120))
            // The path is the last line; SwiftPM may print notes before it.
            let path = result.stdout.split(separator: "\n").last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard result.status == 0, path.hasPrefix("/") else {
                return .failure(LookupFailure(
                    description: "`swift \(command.joined(separator: " "))` exited \(result.status): \(result.stderr)" + advice))
            }
            return .success(path)
        } catch {
            return .failure(LookupFailure(description: "`swift \(command.joined(separator: " "))` could not run: \(error)" + advice))
        }
    }
}
