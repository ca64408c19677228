import Foundation
import Testing
import TestSupport

/// With `--log-format json`, every stderr line is a JSON object: log records and sfpg's own lines alike.
@Suite("CLI: --log-format json", .serialized)
struct CLIJSONLogTests {
    static func expectJSONLines(_ stderr: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(!lines.isEmpty, sourceLocation: sourceLocation)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["message"] != nil && object?["level"] != nil, "not a JSON log line: \(line)", sourceLocation: sourceLocation)
        }
    }

    @Test("a successful run and a failing run write only JSON lines to stderr")
    func everyStderrLineIsJSON() async throws {
        let world = try await E2EFixture { $0.contactCount = 40 }
        let ok = try world.sfpg(["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--log-format", "json",
                                 "--log-level", "trace"])
        #expect(ok.status == 0, "\(ok.stderr)")
        Self.expectJSONLines(ok.stderr)

        // A failure whose final `error:` line used to be plain text.
        let failed = try TestSyncProcess.run(
            ["run", "contacts", "--jobs-directory", E2EFixture.jobsDirectory, "--log-format", "json",
             "--database-url", "postgresql://127.0.0.1:1/x"], environment: world.environment)
        #expect(failed.status == 4, "\(failed.stderr)")
        Self.expectJSONLines(failed.stderr)
        #expect(failed.stderr.contains("\"level\":\"error\""), "\(failed.stderr)")

        let unknownJob = try world.sfpg(["run", "nope", "--jobs-directory", E2EFixture.jobsDirectory, "--log-format", "json"])
        #expect(unknownJob.status == 2)
        Self.expectJSONLines(unknownJob.stderr)

        // ArgumentParser's own complaints: a validation error and an unknown option.
        let conflicting = try world.sfpg(["run", "--full", "--incremental", "--log-format", "json"])
        #expect(conflicting.status == 64, "\(conflicting.stderr)")
        Self.expectJSONLines(conflicting.stderr)
        #expect(conflicting.stderr.contains("exclude each other"))
        let unknownOption = try world.sfpg(["run", "--log-format=json", "--no-such-option"])
        #expect(unknownOption.status == 64, "\(unknownOption.stderr)")
        Self.expectJSONLines(unknownOption.stderr)
    }
}
