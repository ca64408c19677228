import PostgresLoader
import Testing

@Suite struct PageCopyTests {
    @Test func emptyAndQuotedEmptyFieldsLoadAsNull() throws {
        let fixture = try LoaderFixture()
        let page = LoaderFixture.header
            + "\"\(LoaderFixture.id(1))\",\"2024-01-01T00:00:00.000Z\",\"false\",\"\",,\"\",,,\"\",,,\"\"\n"
        try fixture.load([page])
        for column in ["first_name", "last_name", "email", "phone", "account_id", "title", "created_date",
                       "last_modified_date"] {
            #expect(try fixture.contact(1, column) == nil, "\(column) should be NULL")
        }
    }

    @Test func awkwardValuesRoundTrip() throws {
        let fixture = try LoaderFixture()
        let title = "CEO, \"Chief\"\r\nline two\nline three"
        let department = "Zürich 🚀 日本"
        try fixture.load([
            LoaderFixture.page(
                LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z", title: title, department: department),
                LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z", first: "Nu\u{0}ll"))
        ])
        #expect(try fixture.contact(1, "title") == title)
        #expect(try fixture.contact(1, "department") == department)
        #expect(try fixture.contact(2, "first_name") == "Null")
    }

    @Test func bytesMayArriveInAnyChunking() throws {
        let fixture = try LoaderFixture()
        let page = LoaderFixture.page(
            LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z", title: "a\r\nb"),
            LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z", department: "Ünïcødé"))
        let summary = try fixture.withRun { run in
            try run.begin()
            let rows = try run.copyPage(1) { writer in
                for byte in Array(page.utf8) {
                    try withUnsafeBytes(of: byte) { try writer.write($0) }
                }
            }
            #expect(rows == 2)
            return try run.commitStaged()
        }
        #expect(summary.counts.inserted == 2)
        #expect(try fixture.contact(1, "title") == "a\r\nb")
        #expect(try fixture.contact(2, "department") == "Ünïcødé")
    }

    @Test func emptyBodyAndHeaderOnlyPagesAreValid() throws {
        let fixture = try LoaderFixture()
        let headerWithoutNewline = String(LoaderFixture.header.dropLast())
        let summary = try fixture.load(["", LoaderFixture.header, headerWithoutNewline])
        #expect(summary.counts.staged == 0)
        #expect(summary.counts.maxModstamp == nil)
        #expect(summary.watermarkAfter == nil)
    }

    @Test func headerIsCheckedCaseInsensitivelyOnEveryPage() throws {
        let fixture = try LoaderFixture()
        let lowerCased = LoaderFixture.header.lowercased().replacingOccurrences("\"", "")
        let summary = try fixture.load([
            lowerCased + LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z"),
            LoaderFixture.page(LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z")),
        ])
        #expect(summary.counts.inserted == 2)
    }

    @Test func wrongHeaderFailsNamingExpectedAndActual() throws {
        let fixture = try LoaderFixture()
        let swapped = LoaderFixture.header.replacingOccurrences("\"FirstName\",\"LastName\"", "\"LastName\",\"FirstName\"")
        let error = #expect(throws: PostgresError.self) {
            try fixture.load([
                LoaderFixture.page(LoaderFixture.row(1, modstamp: "2024-01-01T00:00:00.000Z")),
                swapped + LoaderFixture.row(2, modstamp: "2024-01-01T00:00:00.000Z"),
            ])
        }
        #expect(error?.code == .copy)
        #expect(error?.message.contains("page 2") == true)
        #expect(error?.message.contains("expected Id,SystemModstamp,IsDeleted,FirstName,LastName") == true)
        #expect(error?.message.contains("got Id,SystemModstamp,IsDeleted,LastName,FirstName") == true)
        #expect(try fixture.count("SELECT count(*) FROM public.salesforce_contacts") == 0)
    }

    @Test func copyInReportsRowsAndServerErrors() throws {
        let fixture = try LoaderFixture()
        try fixture.connection.execute("CREATE TABLE numbers (n integer)")
        let rows = try fixture.connection.copyIn("COPY numbers FROM STDIN WITH (FORMAT csv)") { stream in
            var bytes = Array("1\n2\n3\n".utf8)
            try bytes.withUnsafeMutableBytes { try stream.write(UnsafeRawBufferPointer($0)) }
        }
        #expect(rows == 3)
        let error = #expect(throws: PostgresError.self) {
            try fixture.connection.copyIn("COPY numbers FROM STDIN WITH (FORMAT csv)") { stream in
                var bytes = Array("4\nfive\n".utf8)
                try bytes.withUnsafeMutableBytes { try stream.write(UnsafeRawBufferPointer($0)) }
            }
        }
        #expect(error?.sqlState == "22P02")
        #expect(error?.context?.contains("line 2") == true)
        #expect(try fixture.count("SELECT count(*) FROM numbers") == 3)
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound] + replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}
