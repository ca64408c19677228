import Foundation
import PostgresLoader
@testable import SalesforceClient
@testable import SyncEngine
import Testing
import TestSupport
import Yams

/// `sfpg describe` treats the describe as untrusted data: no name or type from it can run SQL or break the job file.
@Suite("sfpg describe: hostile describes")
struct DescribeHardeningTests {
    static func contact(_ extra: [FieldDescription], name: String = "Contact") -> SObjectDescription {
        SObjectDescription(name: name, fields: [
            FieldDescription(name: "Id", type: "id"), FieldDescription(name: "SystemModstamp", type: "datetime"),
            FieldDescription(name: "IsDeleted", type: "boolean"),
        ] + extra)
    }

    @Test("a field name carrying SQL is refused before any DDL exists, and no table is created")
    func sqlInAFieldName() throws {
        let connection = try PostgresConnection(try TestPostgres.makeDatabase())
        // A base64 field is left out with an SQL comment naming it: the newline used to end the comment.
        let hostile = "Photo\nCREATE TABLE pwned (x int);\n--"
        let description = Self.contact([FieldDescription(name: hostile, type: "base64")])
        let error = #expect(throws: SyncError.self) {
            let design = try TableDesign(description: description, fields: nil, table: nil)
            try connection.executeScript(design.createTableSQL)
        }
        #expect(error?.exitStatus == .configuration)
        #expect(error?.message.contains("\"Photo\\nCREATE TABLE pwned (x int);\\n--\"") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("\n") == false)
        #expect(try connection.execute("SELECT to_regclass('public.pwned') IS NULL").rows == [["t"]])
        #expect(try connection.execute("SELECT to_regclass('public.salesforce_contact') IS NULL").rows == [["t"]])
    }

    @Test("names with quotes, spaces or non-ASCII letters, and malformed types, are refused cleanly")
    func malformedNamesAndTypes() throws {
        for name in ["Email\"", "First Name", "Größe__c", "1Field", "", "A;DROP", "Name\u{0}"] {
            #expect(throws: SyncError.self, "\(name.debugDescription)") {
                _ = try TableDesign(description: Self.contact([FieldDescription(name: name, type: "string")]), fields: nil, table: nil)
            }
        }
        #expect(throws: SyncError.self) {
            _ = try TableDesign(description: Self.contact([FieldDescription(name: "Photo", type: "string\nDROP")]), fields: nil, table: nil)
        }
        #expect(throws: SyncError.self) {
            _ = try TableDesign(description: Self.contact([], name: "Contact\n--"), fields: nil, table: nil)
        }
        // Valid API names of every shape still pass.
        let fine = try TableDesign(
            description: Self.contact([
                FieldDescription(name: "ns__Score__c", type: "double", custom: true),
                FieldDescription(name: "Account__r", type: "string"), FieldDescription(name: "NewKind", type: "someNewType"),
            ]), fields: nil, table: nil)
        #expect(fine.columns.count == 6)
    }

    @Test("column names of long non-ASCII field names are cut on a character boundary instead of trapping")
    func multibyteColumnNames() {
        let fields = [
            FieldDescription(name: String(repeating: "é", count: 40), type: "string"),
            FieldDescription(name: String(repeating: "é", count: 40) + "__c", type: "string", custom: true),
        ]
        let names = TypeMap.columnNames(for: fields)
        #expect(names.count == 2)
        #expect(names.values.allSatisfy { $0.utf8.count <= 63 })
        #expect(Set(names.values).count == 2)
    }

    @Test("the job file round-trips whatever the table name, and comments stay on one line")
    func yamlRoundTrips() throws {
        let table = TableName(schema: "we'ird\n\"x", name: "a: b # c\nobject: Evil\n- ")
        let design = try TableDesign(
            description: Self.contact([
                FieldDescription(name: "Formula__c", type: "string", calculated: true, custom: true),
                FieldDescription(name: "Mailing", type: "address"),
            ]), fields: nil, table: table)
        let job = try JobDefinition.parse(yaml: design.jobYAML, name: "roundtrip", file: "roundtrip.yaml")
        #expect(job.table == table)
        #expect(job.object == "Contact")
        #expect(job.fields.map(\.source) == ["Id", "SystemModstamp", "IsDeleted", "Formula__c"])

        for text in ["a\nb", "'x'", "\"q\"", "#c", "- x", "key: v", "true", "No", "null", "~", "", " lead", "trail ",
                     "tab\there", "back\\slash", "日本語", "%x", "@at", "`bt", "nel\u{85}ls\u{2028}ps\u{2029}", "bell\u{7}",
                     "[a]", "{b}", "*ref", "&anchor", "!tag", "|", ">", "a # b", "1.5", "0x10"]
        {
            let document = "k: \(YAMLText.scalar(text))  # trailing comment\n"
            let parsed = try Yams.compose(yaml: document)?.mapping?["k"]?.string
            #expect(parsed == text, "\(text.debugDescription) → \(document.debugDescription)")
        }
        let comment = YAMLText.comment("x\nobject: Evil\r\u{2028}y")
        #expect(!comment.contains("\n") && !comment.contains("\r") && !comment.contains("\u{2028}"))
        let withComment = try Yams.compose(yaml: "\(comment)\nobject: Good\n")
        #expect(withComment?.mapping?["object"]?.string == "Good")
        #expect(withComment?.mapping?.count == 1)
    }
}
