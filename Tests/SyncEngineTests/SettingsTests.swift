import Foundation
import PostgresLoader
import SettingsSyntax
import Testing

@testable import SalesforceClient

/// The one rule for settings (trimmed; blank = unset), the one duration grammar, and README's settings table kept
/// equal to what the readers know.
@Suite struct SettingsTests {
    @Test(arguments: [
        ("90s", Duration.seconds(90)), ("5m", .seconds(300)), ("5min", .seconds(300)), ("2h", .seconds(7200)),
        ("1d", .seconds(86_400)), ("1500ms", .milliseconds(1500)), ("300", .seconds(300)), ("2.5", .milliseconds(2500)),
        (" 5MIN\n", .seconds(300)), ("5 min", .seconds(300)), ("0", .zero),
    ])
    func everyFormOfTheGrammar(text: String, expected: Duration) throws {
        #expect(try DurationSyntax.parse(text, setting: "X") == expected)
    }

    @Test(arguments: ["", "-1s", "5 minutes", "nan", "inf", "1e3", "0x10", "5x", "s", "1..5s", "3661d"])
    func valuesOutsideTheGrammarNameTheSettingAndTheForms(text: String) {
        let error = #expect(throws: SettingError.self) { try DurationSyntax.parse(text, setting: "overlap") }
        #expect(error?.setting == "overlap")
        #expect(error?.description.contains("90s, 5m, 5min, 2h, 1d") == true, "\(String(describing: error))")
    }

    @Test func aRangeAndARequiredUnitAreCheckedPerSetting() throws {
        #expect(throws: SettingError.self) {
            try DurationSyntax.parse("0", setting: "SF_REQUEST_TIMEOUT", in: .milliseconds(1)...(.seconds(60)))
        }
        #expect(throws: SettingError.self) { try DurationSyntax.parse("300", setting: "L", unitRequired: true) }
        #expect(try DurationSyntax.parse("0", setting: "L", unitRequired: true) == .zero)
        #expect(throws: SettingError.self) { try DurationSyntax.seconds("1500ms", setting: "overlap") }
    }

    @Test func formatUsesTheLargestExactUnit() {
        #expect(DurationSyntax.format(.seconds(300)) == "5min")
        #expect(DurationSyntax.format(.seconds(90)) == "90s")
        #expect(DurationSyntax.format(.milliseconds(1500)) == "1500ms")
        #expect(DurationSyntax.format(.seconds(86_400)) == "1d")
        #expect(DurationSyntax.format(.zero) == "0")
    }

    @Test func valuesAreTrimmedAndBlankMeansUnset() throws {
        let source = SettingsSource(["A": "  value\n", "B": "", "C": " \t\n", "D": "on"])
        #expect(source["A"] == "value")
        #expect(source["B"] == nil && source["C"] == nil)
        #expect(source.first("B", "C", "A") == "value")
        #expect(try source.flag("D") && !source.flag("B"))
        #expect(throws: SettingError.self) { try SettingsSource(["F": "maybe"]).flag("F") }
    }

    @Test func salesforceDurationsTakeTheGrammarAndPaddedValues() throws {
        let base = ["SF_CLIENT_ID": "id", "SF_CLIENT_SECRET": "secret"]
        let configuration = try SalesforceConfiguration.fromEnvironment(base.merging([
            "SF_REQUEST_TIMEOUT": "2min", "SF_PAGE_TIMEOUT": " 1h\n", "SF_LOW_SPEED_TIME": "1m", "SF_CA_BUNDLE": " ",
            "CURL_CA_BUNDLE": "/etc/ca.pem",
        ]) { $1 })
        #expect(configuration.requestTimeout == .seconds(120))
        #expect(configuration.pageTimeout == .seconds(3600))
        #expect(configuration.lowSpeedTimeSeconds == 60)
        #expect(configuration.caBundlePath == "/etc/ca.pem")
        let error = #expect(throws: SalesforceError.self) {
            try SalesforceConfiguration.fromEnvironment(base.merging(["SF_PAGE_TIMEOUT": "soon"]) { $1 })
        }
        #expect(error?.message.contains("SF_PAGE_TIMEOUT") == true && error?.message.contains("5min") == true)
    }

    /// Names a reader knows appear as string literals in the readers' files; README's table must list exactly them.
    @Test func readmeSettingsTableListsExactlyWhatTheReadersKnow() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readers = [
            "Sources/sfpg/Settings.swift", "Sources/sfpg-bench/BenchSettings.swift",
            "Sources/SalesforceClient/SalesforceConfiguration+Environment.swift",
            "Sources/PostgresLoader/Connection/PostgresSettings.swift",
        ]
        var known: Set<String> = [URLPolicy.allowAnyHostVariable]
        for reader in readers {
            let text = try String(contentsOf: root.appendingPathComponent(reader), encoding: .utf8)
            for match in text.matches(of: /"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|PATH|TMPDIR|PGPASSWORD)"/) {
                known.insert(String(match.1))
            }
        }
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.split(separator: "\n### Settings\n").dropFirst().first)
        let table = section.split(separator: "\n").drop { !$0.hasPrefix("| variable") }.prefix { $0.hasPrefix("|") }
        let listed = Set(table.compactMap { line in line.firstMatch(of: /^\| `([A-Z0-9_]+)`/).map { String($0.1) } })
        #expect(listed.subtracting(known).isEmpty, "in README but read nowhere: \(listed.subtracting(known).sorted())")
        #expect(known.subtracting(listed).isEmpty, "read but not in README: \(known.subtracting(listed).sorted())")
        #expect(listed.count >= 30)
    }
}

/// A settings value printed, debug-printed or dumped shows names, never a secret.
@Suite struct SettingsSecrecyTests {
    @Test func noSecretInAnyRendering() throws {
        let secret = "S3cr3t-token-value"
        let source = SettingsSource(["SF_ACCESS_TOKEN": secret, "PGPASSWORD": secret, "SF_INSTANCE_URL": "https://x"])
        let postgres = try PostgresSettings(source)
        for value in [source, postgres] as [Any] {
            var dumped = ""
            dump(value, to: &dumped)
            for text in [String(describing: value), String(reflecting: value), dumped] {
                #expect(!text.contains(secret), "\(text)")
            }
        }
        #expect(String(describing: source).contains("SF_ACCESS_TOKEN"))
    }
}
