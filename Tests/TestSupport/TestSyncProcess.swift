import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one way tests start a child process (`sfpg`, `sfpg-emulator`, `swift`, curl, openssl, socat, the
/// Pushgateway…): spawned with `posix_spawn`, stdin from a file (or /dev/null), stdout and stderr captured in
/// files, waited for with a timeout after which it is killed, and killed when released unwaited.
///
/// The test binary blocks SIGTERM in its threads and children inherit that mask, so the child is spawned with an
/// empty signal mask and default dispositions for SIGINT/SIGTERM: a test can then deliver SIGTERM for real.
/// The child gets exactly the environment given (plus PATH, HOME and LANG), never the test process's own.
/// Not `Sendable`: one test owns it; `wait` and `signal` may be called from any thread the test uses.
public final class TestSyncProcess {
    public let pid: pid_t
    private let stdoutPath: String
    private let stderrPath: String
    private let scratch: URL
    private var status: Int32?

    /// Starts `executable` with `arguments` and exactly `environment` (plus PATH and HOME if not given);
    /// `input`, when given, is the child's whole stdin.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String], input: [UInt8]? = nil
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw TestBinaries.LookupFailure(description: "\(executable) is not an executable file")
        }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sfpg-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        stdoutPath = scratch.appendingPathComponent("stdout").path
        stderrPath = scratch.appendingPathComponent("stderr").path
        var stdinPath = "/dev/null"
        if let input {
            stdinPath = scratch.appendingPathComponent("stdin").path
            try Data(input).write(to: URL(fileURLWithPath: stdinPath))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
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
    /// Stdout as bytes, for binary output (gzip).
    public var standardOutputBytes: [UInt8] {
        (try? Data(contentsOf: URL(fileURLWithPath: stdoutPath))).map(Array.init) ?? []
    }

    /// Runs `executable` to completion and returns the exit code with both outputs.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], input: [UInt8]? = nil,
        timeout: Duration = .seconds(60)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = try TestSyncProcess(executable, arguments, environment: environment, input: input)
        let status = process.wait(timeout: timeout)
        return (status, process.standardOutput, process.standardError)
    }

    /// Runs the built `sfpg` (``TestBinaries``) to completion and returns the exit code with both outputs.
    public static func run(
        _ arguments: [String], environment: [String: String], timeout: Duration = .seconds(60)
    ) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(try TestBinaries.path("sfpg"), arguments, environment: environment, timeout: timeout)
    }

    /// Runs a tool that must succeed and returns its stdout; throws with its stderr when it exits non-zero.
    @discardableResult
    public static func check(
        _ executable: String, _ arguments: [String], input: [UInt8]? = nil, timeout: Duration = .seconds(60)
    ) throws -> [UInt8] {
        let process = try TestSyncProcess(executable, arguments, environment: [:], input: input)
        let status = process.wait(timeout: timeout)
        guard status == 0 else {
            throw Failure(
                description: "\(executable) \(arguments.joined(separator: " ")) exited \(status): \(process.standardError)")
        }
        return process.standardOutputBytes
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The first executable `name` on PATH.
    public static func which(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(directory)/\(name)") {
            return "\(directory)/\(name)"
        }
        throw Failure(description: "\(name) is not on PATH (\(path))")
    }

    /// A loopback TCP port free a moment ago, for a child server (socat, the Pushgateway) to listen on.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
