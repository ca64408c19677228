import Foundation
import PlainHTTP

#if canImport(Glibc)
import Glibc
#endif

/// `sfpg-emulator` as a child process of `sfpg demo`: the production binary links no emulator (and no SwiftNIO).
///
/// Found next to the running `sfpg` (`/proc/self/exe`'s directory, else `CommandLine.arguments[0]`'s); started on a
/// free loopback port with `--print-env json --exit-with-parent` in a process group of its own (a Ctrl-C reaches
/// sfpg, which stops the emulator itself); ``stop()`` (or `deinit`) ends it by its pid.
final class EmulatorProcess {
    let pid: pid_t
    /// `http://127.0.0.1:port`.
    let baseURL: String
    /// `SF_LOGIN_URL`, `SF_CLIENT_ID`, … for the username-password grant.
    let environment: [String: String]
    private var stopped = false

    init(contacts: Int, seed: UInt64) throws {
        let executable = try Self.locate()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw DemoError("could not create a pipe for sfpg-emulator: errno \(errno)") }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_addclose(&actions, readEnd)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signo in [SIGINT, SIGTERM, SIGPIPE] { sigaddset(&defaults, signo) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
        let arguments = [
            executable, "--port", "0", "--contacts", String(contacts), "--seed", String(seed), "--print-env", "json",
            "--exit-with-parent",
        ]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        close(writeEnd)
        guard rc == 0 else {
            close(readEnd)
            throw DemoError("could not start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
        // The first stdout line is the JSON; the emulator writes nothing else there.
        let line = Self.readLine(readEnd)
        close(readEnd)
        do {
            guard let line, let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let base = object["baseURL"] as? String, let env = object["env"] as? [String: String]
            else { throw DemoError("sfpg-emulator did not print its JSON line (it exited, or printed: \(line ?? "nothing"))") }
            baseURL = base
            environment = env
        } catch {
            Self.terminate(child)
            throw error
        }
    }

    deinit { stop() }

    /// SIGTERM, then SIGKILL after 10 s; waits for the child. Safe to call more than once.
    func stop() {
        guard !stopped else { return }
        stopped = true
        Self.terminate(pid)
    }

    /// `POST /__emulator/randomRound`: a round of inserts, updates, soft deletes and purges in the emulator's org.
    func randomRound(object: String, seed: UInt64, inserts: Int, updates: Int, softDeletes: Int, hardDeletes: Int) throws {
        let body: [String: Any] = [
            "object": object, "seed": seed, "inserts": inserts, "updates": updates, "softDeletes": softDeletes,
            "undeletes": 0, "hardDeletes": hardDeletes,
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        let response = try PlainHTTP.request(
            "POST", baseURL + "/__emulator/randomRound", body: json, contentType: "application/json", timeoutSeconds: 300)
        guard (200..<300).contains(response.status) else {
            throw DemoError("the emulator refused the round of changes: HTTP \(response.status) \(response.body.prefix(300))")
        }
    }

    /// `sfpg-emulator` next to this executable.
    static func locate() throws -> String {
        var candidates: [String] = []
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            candidates.append((exe as NSString).deletingLastPathComponent)
        }
        let argv0 = CommandLine.arguments.first ?? ""
        if argv0.contains("/") {
            candidates.append(((argv0 as NSString).resolvingSymlinksInPath as NSString).deletingLastPathComponent)
        }
        for directory in candidates {
            let path = directory + "/sfpg-emulator"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw DemoError(
            "sfpg demo needs sfpg-emulator next to sfpg (looked in \(candidates.joined(separator: ", "))); "
                + "build it with `swift build -c release --product sfpg-emulator` (scripts/demo does)")
    }

    private static func readLine(_ fd: Int32) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let count = read(fd, &byte, 1)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    private static func terminate(_ pid: pid_t) {
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r < 0 && errno != EINTR) { return }
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return
            }
            usleep(20_000)
        }
    }
}

/// A demo setup problem (exit code 1).
struct DemoError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
