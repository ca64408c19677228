import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A child process (normally `.build/debug/sfpg`) spawned with `posix_spawn`, its output captured in files.
///
/// The test binary blocks SIGTERM in its threads and children inherit that mask, so the child is spawned with an
/// empty signal mask and default dispositions for SIGINT/SIGTERM: a test can then deliver SIGTERM for real.
/// Not `Sendable`: one test owns it; `wait` and `signal` may be called from any thread the test uses.
public final class TestSyncProcess {
    public let pid: pid_t
    private let stdoutPath: String
    private let stderrPath: String
    private let scratch: URL
    private var status: Int32?

    /// The repository root, found from this file's path (`Tests/TestSupport/…`).
    public static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `.build/debug/sfpg` (SwiftPM builds it with `--build-tests`).
    public static var sfpgPath: String { repositoryRoot + "/.build/debug/sfpg" }

    /// Starts `executable` with `arguments` and exactly `environment` (plus PATH and HOME if not given).
    public init(
        _ executable: String = TestSyncProcess.sfpgPath, _ arguments: [String], environment: [String: String]
    ) throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        stdoutPath = scratch.appendingPathComponent("stdout").path
        stderrPath = scratch.appendingPathComponent("stderr").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var env = environment
        let inherited = ProcessInfo.processInfo.environment
        for name in ["PATH", "HOME", "LANG"] where env[name] == nil { env[name] = inherited[name] }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL)
        }
        pid = child
    }

    deinit {
        // A test that failed before waiting must not leave a child behind.
        if status == nil {
            kill(pid, SIGKILL)
            var raw: Int32 = 0
            waitpid(pid, &raw, 0)
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Sends `signal` to the child.
    public func send(_ signal: Int32) {
        if status == nil { kill(pid, signal) }
    }

    /// Waits for the child to exit; after `timeout` it is killed with SIGKILL. Returns the exit code, or
    /// 128 + signal number when a signal ended it.
    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) -> Int32 {
        if let status { return status }
        let deadline = ContinuousClock.now + timeout
        var raw: Int32 = 0
        while true {
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &raw, 0)
                break
            }
            usleep(10_000)
        }
        let code: Int32 = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
        status = code
        return code
    }

    /// Whether the child is still running.
    public var isRunning: Bool {
        guard status == nil else { return false }
        var raw: Int32 = 0
        let r = waitpid(pid, &raw, WNOHANG)
        if r == pid {
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            return false
        }
        return true
    }

    public var standardOutput: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Runs to completion and returns the exit code with both outputs.
    public static func run(
        _ arguments: [String], environment: [String: String], timeout: Duration = .seconds(60)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try TestSyncProcess(sfpgPath, arguments, environment: environment)
        let status = process.wait(timeout: timeout)
        return (status, process.standardOutput, process.standardError)
    }
}
