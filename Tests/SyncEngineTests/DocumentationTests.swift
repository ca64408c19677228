import Foundation
@testable import SalesforceClient
import SyncEngine
import Testing
import TestSupport

/// README.md and docs/emulator.md against the programs they describe (issue 21 #11): a flag, setting or type
/// mapping changed in one place and not the other fails here.
@Suite("Docs match the programs")
struct DocumentationTests {
    static func text(_ path: String) throws -> String {
        try String(contentsOfFile: TestBinaries.repositoryRoot + "/" + path, encoding: .utf8)
    }

    /// The section of `text` from the heading line `start` to the next heading of the same or a higher level.
    static func section(_ text: String, _ start: String) -> String {
        guard let range = text.range(of: "\n" + start + "\n") else { return "" }
        let level = start.prefix { $0 == "#" }.count
        let rest = text[range.upperBound...]
        let end = rest.split(separator: "\n", omittingEmptySubsequences: false).firstIndex {
            let hashes = $0.prefix { $0 == "#" }.count
            return hashes > 0 && hashes <= level && $0.dropFirst(hashes).hasPrefix(" ")
        }
        return rest.split(separator: "\n", omittingEmptySubsequences: false).prefix(end ?? .max).joined(separator: "\n")
    }

    static func matches(_ pattern: String, in text: String) -> Set<String> {
        let regex = try! NSRegularExpression(pattern: pattern)
        let range = NSRange(text.startIndex..., in: text)
        return Set(regex.matches(in: text, range: range).map { String(text[Range($0.range(at: 1), in: text)!]) })
    }

    @Test("docs/emulator.md's option table lists every option of sfpg-emulator --help, and no other")
    func emulatorFlags() throws {
        let help = try TestSyncProcess.run(try TestBinaries.path("sfpg-emulator"), ["--help"])
        #expect(help.status == 0)
        let programFlags = Self.matches(#"(?m)^\s+(--[a-z][a-z0-9-]*)"#, in: help.stdout).subtracting(["--help"])
        #expect(programFlags.contains("--print-env") && programFlags.contains("--exit-with-parent"), "\(help.stdout)")
        let documented = Self.matches(#"(?m)^\| `(--[a-z][a-z0-9-]*)"#, in: try Self.text("docs/emulator.md"))
            .union(Self.matches(#"(?m)^\| `--[^`]*`[^|]*`(--[a-z][a-z0-9-]*)"#, in: try Self.text("docs/emulator.md")))
        #expect(programFlags.subtracting(documented).isEmpty, "undocumented: \(programFlags.subtracting(documented).sorted())")
        #expect(documented.subtracting(programFlags).isEmpty, "documented but gone: \(documented.subtracting(programFlags).sorted())")
    }

    @Test("README's settings table names every SF_/SFPG_ variable the sources read, and each name it lists is read")
    func settingsTable() throws {
        let table = Self.section(try Self.text("README.md"), "### Settings")
        let documented = Self.matches(#"(?m)^\| `([A-Z][A-Z0-9_]+)`"#, in: table)
        #expect(documented.contains("SF_JWT_AUDIENCE"))
        var read: Set<String> = []
        var literals = ""
        for module in ["sfpg", "SalesforceClient", "PostgresLoader", "SettingsSyntax", "SyncEngine"] {
            let root = TestBinaries.repositoryRoot + "/Sources/" + module
            for case let file as String in FileManager.default.enumerator(atPath: root)! where file.hasSuffix(".swift") {
                let source = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
                literals += source
                read.formUnion(Self.matches(#""((?:SF|SFPG)_[A-Z0-9_]+)""#, in: source))
            }
        }
        #expect(read.subtracting(documented).isEmpty, "read but not in README's settings table: \(read.subtracting(documented).sorted())")
        let unread = documented.filter { !literals.contains("\"\($0)\"") }
        #expect(unread.isEmpty, "in README's settings table but read nowhere: \(unread.sorted())")
    }

    @Test("README's describe type map is what TypeMap writes")
    func typeMap() throws {
        let readme = try Self.text("README.md")
        let start = try #require(readme.range(of: "| Salesforce describe type | PostgreSQL column | why |"))
        let rows = readme[start.upperBound...].split(separator: "\n").dropFirst().prefix { $0.hasPrefix("|") }
        var checked = 0
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, cells[1].hasPrefix("`") else { continue }
            let column = String(cells[1].split(separator: "`")[0])
            for type in Self.matches(#"`([a-zA-Z]+)`"#, in: cells[0]) {
                let mapped = TypeMap.column(for: FieldDescription(name: "F", type: type))
                #expect(mapped == .type(column), "README maps \(type) to \(column); TypeMap: \(mapped)")
                checked += 1
            }
        }
        #expect(checked >= 20, "\(checked) types checked")
        #expect(TypeMap.column(for: FieldDescription(name: "F", type: "int", digits: 18)) == .type("bigint"))
        #expect(readme.contains("`numeric` (no precision or scale)"))
    }
}
