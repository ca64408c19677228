import CivilTime
import Foundation
@testable import SalesforceEmulator
import TestSupport
import Testing

/// Issue #11: places where the emulator differed from documented Salesforce behaviour. Each test names the page or
/// KB article it follows; each failed before its fix.
@Suite struct ConformanceTests {
    // MARK: 1. Numbers (KB 000221617, KB 000385889, KB 000212661; forcedotcom/dataloader#1204)

    @Test("KB 000221617/000385889: doubles are written like Java's Double.toString")
    func javaDoubleFormatting() {
        let cases: [(Double, String)] = [
            (1_234_567, "1234567.0"), (12_345_678, "1.2345678E7"), (90_000_000, "9.0E7"), (0, "0.0"),
            (-1.5, "-1.5"), (0.001, "0.001"), (0.0001, "1.0E-4"), (9_999_999.99, "9999999.99"), (1e7, "1.0E7"),
            (99_213_206, "9.9213206E7"), (16_147_805_824_397, "1.6147805824397E13"), (0.1 + 0.2, "0.30000000000000004"),
            (123, "123.0"), (-9_000_000_000_000, "-9.0E12"), (1e21, "1.0E21"), (1.25e-7, "1.25E-7"),
        ]
        for (value, java) in cases { #expect(JavaDouble.format(value) == java, "\(value)") }
    }

    @Test("the plain-decimal fast path writes what the general Java formatting writes, and declines the rest")
    func plainDecimalFastPathAgreesWithTheGeneralPath() {
        var generator = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "0.0", "0.001", "0.0009", "9999999.99", "10000000", "007.50", "-12.340", "1.", ".5",
                     "123456789012345", "1234567.89012345", "0.00123456789012345", "1e5", "12a", "", "-", "+3"]
        for _ in 0..<20_000 {
            let integer = String(UInt64.random(in: 0..<100_000_000_000, using: &generator) >> UInt64.random(in: 0..<37, using: &generator))
            let fraction = String(repeating: "0", count: Int.random(in: 0..<4, using: &generator))
                + String(UInt64.random(in: 0..<1_000_000_000, using: &generator) >> UInt64.random(in: 0..<30, using: &generator))
            let sign = Bool.random(using: &generator) ? "-" : ""
            texts.append(Bool.random(using: &generator) ? sign + integer : sign + integer + "." + fraction)
        }
        var fast = 0
        for text in texts {
            guard let plain = JavaDouble.plainDecimal(text) else { continue }
            fast += 1
            #expect(plain == JavaDouble.format(Double(text)!), "\(text)")
        }
        // Most generated texts take the fast path; the edge cases above that must not, don't.
        #expect(fast > texts.count / 2)
        for declined in ["0", "-0", "0.0", "0.0009", "1.", ".5", "1e5", "12a", "", "-", "+3", "0.00012", "1234567890123456"] {
            #expect(JavaDouble.plainDecimal(declined) == nil, "\(declined)")
        }
    }

    @Test("KB 000221617: double, currency and percent values in Bulk CSV are in Java form, never fixed-point")
    func bulkCSVNumbersAreJavaDoubles() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 400 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let job = try session.run("SELECT Id, Score__c, Lifetime_Value__c, Discount__c, Visit_Count__c, External_Number__c FROM Contact")
        let rows = try session.pages(job).flatMap { CSV.rows($0.text).dropFirst() }
        var sawExponent = false
        var sawExtraScale = false
        for row in rows {
            for value in row.dropFirst() where !value.isEmpty {
                let number = try #require(Double(value), "\(value)")
                #expect(JavaDouble.format(number) == value, "\(value) is not Java's form")
                #expect(value.contains("."), "\(value) has no point")
                if value.contains("E") { sawExponent = true }
            }
            // Scale 2, but some values carry more decimals (KB 000212661).
            if let score = row[1].split(separator: ".").last, !row[1].contains("E"), score.count > 2 { sawExtraScale = true }
        }
        #expect(sawExponent, "large values must use E notation")
        #expect(sawExtraScale, "some values must carry more decimals than the field's scale")
        // Values set through the admin API come back the same way.
        let id = emulator.org.ids("Contact", includeDeleted: false)[0]
        emulator.org.update("Contact", id: id, fields: ["Lifetime_Value__c": "12345678", "Score__c": "1234567.00"])
        let one = try session.run("SELECT Lifetime_Value__c, Score__c FROM Contact WHERE Id = '\(id)'")
        #expect(try session.pages(one).flatMap { CSV.rows($0.text).dropFirst() } == [["1.2345678E7", "1234567.0"]])
    }

    @Test("Field reference: custom Number fields are describe type double, never int or long")
    func customNumberFieldsAreDoubles() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        for object in ["Contact", "Account", "Opportunity"] {
            let fields = try session.get("/sobjects/\(object)/describe").object()["fields"] as? [[String: Any]] ?? []
            for field in fields where field["custom"] as? Bool == true {
                let type = field["type"] as? String ?? ""
                #expect(type != "int" && type != "long", "\(object).\(field["name"] ?? "") is \(type)")
            }
        }
        let visit = try #require(
            (try session.get("/sobjects/Contact/describe").object()["fields"] as? [[String: Any]])?
                .first { $0["name"] as? String == "Visit_Count__c" })
        #expect(visit["type"] as? String == "double" && visit["precision"] as? Int == 9 && visit["scale"] as? Int == 0)
    }

    // MARK: 2. Page sizes ([DOC-RESULTS]: maxRecords "is still subject to the size limits")

    @Test("query_get_job_results: pages are bounded by bytes too; a short page is not the end, Sforce-Locator null is")
    func pagesAreCappedByBytesAndLocatorsStillChain() async throws {
        let emulator = try await TestEmulator.start {
            $0.contactCount = 300
            $0.maxPageBytes = 20_000
        }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let job = try session.run("SELECT Id, Description, Notes__c FROM Contact")
        let pages = try session.pages(job, maxRecords: 1000)
        #expect(pages.count > 1, "20 KB pages must cut a 300-row selection of long text")
        var ids: [String] = []
        for (k, page) in pages.enumerated() {
            let rows = CSV.rows(page.text)
            #expect(rows.first == ["Id", "Description", "Notes__c"])
            #expect(Int(page.header("Sforce-NumberOfRecords") ?? "") == rows.count - 1)
            #expect(rows.count - 1 < 1000)
            if k < pages.count - 1 {
                #expect(page.header("Sforce-Locator") != "null")
                // A page only overflows the cap when a single row does.
                #expect(page.body.count <= 20_000 || rows.count == 2)
            }
            ids += rows.dropFirst().map { $0[0] }
        }
        #expect(pages.last?.header("Sforce-Locator") == "null")
        #expect(ids == emulator.org.ids("Contact", includeDeleted: false), "every record once, in order")
        let info = try session.get("/jobs/query/\(job)").object()
        #expect(info["numberRecordsProcessed"] as? Int == 300)
    }

    // MARK: 3. Ids (restforce#557, jsforce#684; salesforce-api.md §8b)

    @Test("SOQL: a malformed Id literal fails with INVALID_QUERY_FILTER_OPERATOR 'invalid ID field'")
    func malformedIdLiteralIsAnError() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        for soql in ["SELECT Id FROM Contact WHERE Id = 'abc'", "SELECT Id FROM Contact WHERE AccountId IN ('001', 'x')"] {
            let response = try session.create(soql)
            #expect(response.status == 400)
            #expect(response.errorCode() == "INVALID_QUERY_FILTER_OPERATOR")
            #expect(response.errorMessage()?.contains("invalid ID field: ") == true, "\(response.text)")
            #expect(response.errorMessage()?.contains("ERROR at Row:1:Column:") == true)
        }
        #expect(try session.create("SELECT Id FROM Contact WHERE Id = 'abc'").errorMessage()?.hasSuffix("invalid ID field: abc") == true)
    }

    @Test("SOQL: a 15-character Id matches its 18-character record; case matters in 15, not in 18")
    func fifteenCharacterIdsMatch() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 200 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let all = emulator.org.ids("Contact", includeDeleted: false)
        let target = try #require(all.first { $0.prefix(15).contains(where: \.isLowercase) && $0.prefix(15).contains(where: \.isUppercase) })
        func ids(_ soql: String) throws -> [String] {
            try session.pages(try session.run(soql)).flatMap { CSV.rows($0.text).dropFirst().map { $0[0] } }
        }
        #expect(try ids("SELECT Id FROM Contact WHERE Id = '\(target.prefix(15))'") == [target])
        #expect(try ids("SELECT Id FROM Contact WHERE Id = '\(target.uppercased())'") == [target])
        #expect(try ids("SELECT Id FROM Contact WHERE Id IN ('\(target.prefix(15))', '\(all[0])')").sorted() == [all[0], target].sorted())
        // Another case is another record (here: none) for a 15-character Id.
        #expect(try ids("SELECT Id FROM Contact WHERE Id = '\(target.prefix(15).uppercased())'").isEmpty)
    }

    // MARK: 4. SOQL coverage (SOQL and SOSL Reference: Comparison Operators, Date Formats and Date Literals,
    // Date Functions, Relationship Queries; Bulk API 2.0 "Understanding Queries")

    func ids(_ session: Session, _ soql: String) throws -> [String] {
        try session.pages(try session.run(soql)).flatMap { CSV.rows($0.text).dropFirst().map { $0[0] } }
    }

    @Test("Comparison Operators: IN, NOT IN, LIKE (%, _, case-insensitive), INCLUDES, EXCLUDES")
    func comparisonOperators() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 300 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let truth = emulator.org.truth("Contact", fields: ["Id", "LeadSource", "LastName", "Languages__c"], includeDeleted: false)
        func expected(_ keep: ([String?]) -> Bool) -> [String] { truth.filter(keep).map { $0[0]! } }
        #expect(try ids(session, "SELECT Id FROM Contact WHERE LeadSource IN ('Web', 'other')")
            == expected { ["Web", "Other"].contains($0[1] ?? "") })
        #expect(try ids(session, "SELECT Id FROM Contact WHERE LeadSource NOT IN ('Web')")
            == expected { $0[1] != nil && $0[1] != "Web" })
        let name = try #require(truth.first?[2])
        let pattern = String(name.prefix(2)).uppercased() + "%"
        #expect(try ids(session, "SELECT Id FROM Contact WHERE LastName LIKE '\(pattern)'")
            == expected { $0[2]!.lowercased().hasPrefix(name.prefix(2).lowercased()) })
        let underscore = "_" + String(name.dropFirst())
        #expect(try ids(session, "SELECT Id FROM Contact WHERE LastName LIKE '\(underscore)'")
            == expected { $0[2]!.count == name.count && $0[2]!.lowercased().hasSuffix(name.dropFirst().lowercased()) })
        func languages(_ row: [String?]) -> Set<String> { Set((row[3] ?? "").split(separator: ";").map(String.init)) }
        #expect(try ids(session, "SELECT Id FROM Contact WHERE Languages__c INCLUDES ('English;Deutsch', 'Español')")
            == expected { row in languages(row).isSuperset(of: ["English", "Deutsch"]) || languages(row).contains("Español") })
        #expect(try ids(session, "SELECT Id FROM Contact WHERE Languages__c EXCLUDES ('English')")
            == expected { !languages($0).contains("English") })
    }

    @Test("Date Formats and Date Literals: TODAY, LAST_N_DAYS:n (includes today), THIS_MONTH, … in UTC")
    func dateLiterals() throws {
        // 2024-05-15T12:00:00Z, a Wednesday.
        let now: Int64 = 1_715_774_400_000
        func range(_ literal: String) -> (String, String)? {
            DateLiteral.range(literal, now: now).map {
                (Timestamps.date(days: $0.start / 86_400_000), Timestamps.date(days: $0.end / 86_400_000))
            }
        }
        #expect(range("TODAY")! == ("2024-05-15", "2024-05-16"))
        #expect(range("YESTERDAY")! == ("2024-05-14", "2024-05-15"))
        #expect(range("LAST_N_DAYS:1")! == ("2024-05-14", "2024-05-16"))
        #expect(range("LAST_90_DAYS")! == ("2024-02-15", "2024-05-16"))
        #expect(range("NEXT_N_DAYS:2")! == ("2024-05-16", "2024-05-18"))
        #expect(range("THIS_WEEK")! == ("2024-05-12", "2024-05-19"))
        #expect(range("THIS_MONTH")! == ("2024-05-01", "2024-06-01"))
        #expect(range("LAST_MONTH")! == ("2024-04-01", "2024-05-01"))
        #expect(range("THIS_QUARTER")! == ("2024-04-01", "2024-07-01"))
        #expect(range("THIS_YEAR")! == ("2024-01-01", "2025-01-01"))
        #expect(range("LAST_N_MONTHS:2")! == ("2024-03-01", "2024-05-01"))
        #expect(range("N_DAYS_AGO:3")! == ("2024-05-12", "2024-05-13"))
        #expect(range("LAST_N_DAYS") == nil && range("SOMEDAY") == nil)
    }

    @Test("Date literals and date functions filter over the wire, relative to the emulator's clock")
    func dateLiteralsAndFunctionsInWhere() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 300 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let all = emulator.org.ids("Contact", includeDeleted: false)
        emulator.org.update("Contact", id: all[7], fields: ["Title": "Touched"])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE SystemModstamp = TODAY") == [all[7]])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE LastModifiedDate = LAST_N_DAYS:3") == [all[7]])
        #expect(try ids(session, "SELECT Id FROM Contact WHERE CreatedDate < THIS_YEAR").count == 300)
        let truth = emulator.org.truth("Contact", fields: ["Id", "Birthdate"], includeDeleted: false)
        #expect(try ids(session, "SELECT Id FROM Contact WHERE CALENDAR_YEAR(Birthdate) = 1970 AND CALENDAR_MONTH(Birthdate) > 6")
            == truth.filter { ($0[1] ?? "").hasPrefix("1970-") && Int($0[1]!.dropFirst(5).prefix(2))! > 6 }.map { $0[0]! })
        let created = try #require(emulator.org.truth("Contact", fields: ["CreatedDate"], includeDeleted: false)[5][0])
        let day = String(created.prefix(10))
        let sameDay = emulator.org.truth("Contact", fields: ["Id", "CreatedDate"], includeDeleted: false)
            .filter { $0[1]!.hasPrefix(day) }.map { $0[0]! }
        #expect(try ids(session, "SELECT Id FROM Contact WHERE DAY_ONLY(CreatedDate) = \(day)") == sameDay)
    }

    @Test("Relationship Queries: child-to-parent paths up to 5 levels, through User (Owner, CreatedBy, Manager)")
    func relationshipsThroughUsers() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 60 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let job = try session.run(
            "SELECT Id, Owner.Name, CreatedBy.Email, Account.Owner.Username, Account.Parent.Owner.Manager.Alias FROM Contact WHERE Owner.IsActive = true")
        let rows = try session.pages(job).flatMap { CSV.rows($0.text) }
        #expect(rows.first == ["Id", "Owner.Name", "CreatedBy.Email", "Account.Owner.Username", "Account.Parent.Owner.Manager.Alias"])
        let users = emulator.org.truth("User", fields: ["Id", "Name", "Email", "IsActive"], includeDeleted: false)
        #expect(users.count == 20)
        let truth = emulator.org.truth(
            "Contact", fields: ["Id", "Owner.Name", "CreatedBy.Email", "Account.Owner.Username", "Account.Parent.Owner.Manager.Alias", "Owner.IsActive"],
            includeDeleted: false)
        #expect(rows.dropFirst().map { $0 } == truth.filter { $0[5] == "true" }.map { Array($0.prefix(5)).map { $0 ?? "" } })
        #expect(rows.dropFirst().allSatisfy { !$0[1].isEmpty && $0[2].hasSuffix("@sfpg.example") })
        let tooDeep = try session.create("SELECT Account.Parent.Parent.Parent.Parent.Parent.Name FROM Contact")
        #expect(tooDeep.status == 400)
        #expect(try session.get("/sobjects/User/describe").object()["keyPrefix"] as? String == "005")
    }

    @Test("MALFORMED_QUERY carries 'ERROR at Row:1:Column:N'; LIMIT 0 returns no rows")
    func malformedQueryPositionAndLimitZero() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let response = try session.create("SELECT Id FROM Contact WHERE LastName = = 'x'")
        #expect(response.errorCode() == "MALFORMED_QUERY")
        #expect(response.errorMessage()?.contains("ERROR at Row:1:Column:41") == true, "\(response.text)")
        #expect(response.errorMessage()?.hasPrefix("\nSELECT Id FROM Contact WHERE LastName = = 'x'\n") == true)
        // JSON-escaped newline: the query has two rows.
        let field = try session.send("POST", "/jobs/query", json: #"{"operation":"query","query":"SELECT Id,\n Nope FROM Contact"}"#)
        #expect(field.errorCode() == "INVALID_FIELD")
        #expect(field.errorMessage()?.contains("ERROR at Row:2:Column:2") == true, "\(field.text)")
        #expect(try ids(session, "SELECT Id FROM Contact LIMIT 0").isEmpty)
        #expect(try ids(session, "SELECT Id FROM Contact ORDER BY LastName LIMIT 0").isEmpty)
        #expect(try ids(session, "SELECT Id FROM Contact LIMIT 1").count == 1)
    }

    // MARK: 5. Transport ([DOC-GZIP] query-compression: "sometimes doesn't send back the response in a compressed
    // format"; RFC 9110 §12.5.3 Accept-Encoding; instance_url is always https)

    @Test("--tls: https with a generated CA that verifies 127.0.0.1; instance_url is https")
    func tlsWithGeneratedCA() async throws {
        let emulator = try await TestEmulator.start {
            $0.contactCount = 50
            $0.tls = true
        }
        #expect(emulator.baseURL.hasPrefix("https://127.0.0.1:"))
        let ca = try #require(emulator.caCertificatePath)
        #expect(emulator.trustExports.contains("export REQUESTS_CA_BUNDLE='\(ca)'"))
        #expect(emulator.trustExports.contains("export SSL_CERT_FILE='\(ca)'"))
        let untrusted = try Curl.request("GET", emulator.baseURL + "/services/data/")
        #expect(untrusted.exitCode == 60, "an unknown CA must fail verification")
        let trusted = ["--cacert", ca]
        #expect(try Curl.request("GET", emulator.baseURL + "/services/data/", curlArguments: trusted).status == 200)
        let token = try Curl.request(
            "POST", emulator.baseURL + "/services/oauth2/token",
            headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Curl.form([
                ("grant_type", "password"), ("client_id", "sfpg-emulator-client"), ("client_secret", "emulator-secret"),
                ("username", "integration@sfpg.example"), ("password", "emulator-passwordemulatorToken"),
            ]), curlArguments: trusted
        ).object()
        #expect(token["instance_url"] as? String == emulator.baseURL)
        // A whole multi-page download over TLS, with keep-alive, arrives intact.
        let auth = ["Authorization": "Bearer \(token["access_token"] as? String ?? "")", "Content-Type": "application/json"]
        let job = try Curl.request(
            "POST", emulator.baseURL + "/services/data/v62.0/jobs/query", headers: auth,
            body: #"{"operation":"query","query":"SELECT Id, Description FROM Contact"}"#, curlArguments: trusted
        ).object()["id"] as? String ?? ""
        try await Task.sleep(for: .milliseconds(300))
        let page = try Curl.request(
            "GET", emulator.baseURL + "/services/data/v62.0/jobs/query/\(job)/results", headers: auth, curlArguments: trusted)
        #expect(page.status == 200 && CSV.rows(page.text).count == 51)
        try await emulator.shutdown()
        #expect(!FileManager.default.fileExists(atPath: ca), "the CA is removed at shutdown")
    }

    @Test("RFC 9110 Accept-Encoding: q-values honoured, with or without spaces; lists and case")
    func acceptEncodingParsing() {
        for header in ["gzip", "GZIP", "deflate, gzip", "gzip;q=0.5", "br;q=1.0, gzip; q=0.8", "x-gzip", "gzip ; q = 1"] {
            #expect(AcceptEncoding.acceptsGzip(header), "\(header)")
        }
        for header in ["gzip;q=0", "gzip; q=0", "gzip;q=0.0", "gzip ;q=0.000", "identity", "deflate", "", "*"] {
            #expect(!AcceptEncoding.acceptsGzip(header), "\(header)")
        }
        #expect(!AcceptEncoding.acceptsGzip(nil))
    }

    @Test("query-compression: gzip;q=0 is honoured, and some responses are uncompressed or chunked anyway")
    func compressionIsBestEffortAndFramingVaries() async throws {
        let emulator = try await TestEmulator.start {
            $0.contactCount = 40
            $0.uncompressedProbability = 1
            $0.chunkedProbability = 1
        }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let job = try session.run("SELECT Id FROM Contact")
        let page = try session.get("/jobs/query/\(job)/results", headers: ["Accept-Encoding": "gzip"])
        #expect(page.header("Content-Encoding") == nil, "asked for gzip, got plain text: clients must check")
        #expect(page.header("Transfer-Encoding")?.lowercased() == "chunked" && page.header("Content-Length") == nil)
        #expect(CSV.rows(page.text).count == 41)

        let plain = try await TestEmulator.start { $0.contactCount = 10 }
        defer { try? plain.shutdownBlocking() }
        let other = try Session(plain)
        let id = try other.run("SELECT Id FROM Contact")
        for header in ["gzip;q=0", "gzip; q=0"] {
            #expect(try other.get("/jobs/query/\(id)/results", headers: ["Accept-Encoding": header]).header("Content-Encoding") == nil)
        }
        let zipped = try other.get("/jobs/query/\(id)/results", headers: ["Accept-Encoding": "deflate, gzip;q=0.9"])
        #expect(zipped.header("Content-Encoding") == "gzip" && zipped.header("Content-Length") != nil)
        // The same behaviour at run time through the admin API (for the command-line emulator).
        let set = try Curl.request(
            "POST", plain.baseURL + "/__emulator/transport", headers: ["Content-Type": "application/json"],
            body: #"{"uncompressedProbability": 1, "chunkedProbability": 1, "maxPageBytes": 1}"#)
        #expect(set.status == 200)
        let changed = try other.get("/jobs/query/\(id)/results", headers: ["Accept-Encoding": "gzip"])
        #expect(changed.header("Content-Encoding") == nil && changed.header("Transfer-Encoding")?.lowercased() == "chunked")
        #expect(changed.header("Sforce-NumberOfRecords") == "1", "a 1-byte cap still sends one row per page")
    }

    // MARK: 6. REST endpoints third-party clients call (REST API Developer Guide: Query, QueryAll, sObject Basic
    // Information, sObject Rows, sObject Get Updated, Resources by Version)

    @Test("REST Query/QueryAll: records with attributes, typed values, nested parents, nextRecordsUrl paging")
    func restQueryPaging() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 2500 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let all = emulator.org.ids("Contact", includeDeleted: false)
        emulator.org.softDelete("Contact", id: all[1])
        let q = "SELECT Id, Is_VIP__c, Score__c, CreatedDate, Account.Name, Account.Owner.Alias FROM Contact"
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        let first = try session.get("/query?q=\(encoded)").object()
        #expect(first["totalSize"] as? Int == 2499 && first["done"] as? Bool == false)
        let records = first["records"] as? [[String: Any]] ?? []
        #expect(records.count == 2000)
        let record = try #require(records.first)
        let attributes = record["attributes"] as? [String: Any]
        #expect(attributes?["type"] as? String == "Contact")
        #expect(attributes?["url"] as? String == "/services/data/v62.0/sobjects/Contact/\(all[0])")
        #expect(record["Is_VIP__c"] is Bool)
        #expect((record["CreatedDate"] as? String)?.hasSuffix("+0000") == true)
        let withAccount = try #require(records.first { $0["Account"] is [String: Any] })
        let account = withAccount["Account"] as? [String: Any]
        #expect((account?["attributes"] as? [String: Any])?["type"] as? String == "Account")
        #expect(account?["Name"] is String && (account?["Owner"] as? [String: Any])?["Alias"] is String)
        let next = try #require(first["nextRecordsUrl"] as? String)
        #expect(next.hasPrefix("/services/data/v62.0/query/01g"))
        let second = try Curl.request("GET", emulator.baseURL + next, headers: session.auth).object()
        #expect((second["records"] as? [[String: Any]])?.count == 499 && second["done"] as? Bool == true)
        #expect(second["nextRecordsUrl"] == nil)
        let everything = try session.get("/queryAll?q=\("SELECT Id FROM Contact".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)").object()
        #expect(everything["totalSize"] as? Int == 2500)
        let bad = try session.get("/query?q=\("SELECT Id FROM Contact WHERE Id = 'x'".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
        #expect(bad.status == 400 && bad.errorCode() == "INVALID_QUERY_FILTER_OPERATOR")
    }

    @Test("REST sObject Basic Information, sObject Rows, Get Updated, Resources by Version")
    func restObjectResources() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let info = try session.get("/sobjects/Contact").object()
        #expect((info["objectDescribe"] as? [String: Any])?["keyPrefix"] as? String == "003")
        #expect(info["recentItems"] as? [Any] != nil)
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        let record = try session.get("/sobjects/Contact/\(ids[2])").object()
        #expect(record["Id"] as? String == ids[2] && record["LastName"] is String)
        #expect(record.keys.contains("MailingAddress"))
        let partial = try session.get("/sobjects/Contact/\(ids[2].prefix(15))?fields=LastName").object()
        #expect(Set(partial.keys) == ["attributes", "LastName"])
        #expect(try session.get("/sobjects/Contact/003000000000000AAA").status == 404)
        emulator.org.softDelete("Contact", id: ids[3])
        #expect(try session.get("/sobjects/Contact/\(ids[3])").errorCode() == "ENTITY_IS_DELETED")

        let start = Timestamps.restDatetime(millis: emulator.org.clock.now() - 3_600_000)
        emulator.org.update("Contact", id: ids[4], fields: ["Title": "New"])
        let end = Timestamps.restDatetime(millis: emulator.org.clock.now() + 60_000)
        let window = "start=\(start.replacingOccurrences(of: "+", with: "%2B"))&end=\(end.replacingOccurrences(of: "+", with: "%2B"))"
        let updated = try session.get("/sobjects/Contact/updated/?\(window)").object()
        #expect(updated["ids"] as? [String] == [ids[4]])
        #expect(updated["latestDateCovered"] is String)
        let resources = try session.get("/").object()
        #expect(resources["query"] as? String == "/services/data/v62.0/query")
        #expect(resources["sobjects"] as? String == "/services/data/v62.0/sobjects")
    }

    // MARK: 6. Endpoints ([DOC-PARALLEL], [DOC-RESULTS], Bulk API 2.0 limits, [DOC-GETJOB])

    @Test("query-get-parallel-job-results: resultPages exists from v58.0 only")
    func resultPagesOnlyFromV58() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 10 }
        defer { try? emulator.shutdownBlocking() }
        let old = try Session(emulator, version: "57.0")
        let job = try old.run("SELECT Id FROM Contact")
        #expect(try old.get("/jobs/query/\(job)/resultPages").status == 404)
        #expect(try old.get("/jobs/query/\(job)/results").status == 200)
        let current = try Session(emulator, version: "58.0")
        let newer = try current.run("SELECT Id FROM Contact")
        #expect(try current.get("/jobs/query/\(newer)/resultPages").status == 200)
    }

    @Test("query_get_job_results: locators are opaque and bound to their job (INVALIDLOCATOR elsewhere)")
    func locatorsAreBoundToTheirJob() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 30 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let a = try session.run("SELECT Id FROM Contact")
        let b = try session.run("SELECT Id FROM Contact")
        let locator = try #require(try session.get("/jobs/query/\(a)/results?maxRecords=10").header("Sforce-Locator"))
        #expect(locator != "null" && Int(locator) == nil)
        #expect(try session.get("/jobs/query/\(a)/results?locator=\(locator)&maxRecords=10").status == 200)
        let wrong = try session.get("/jobs/query/\(b)/results?locator=\(locator)&maxRecords=10")
        #expect(wrong.status == 400 && wrong.errorCode() == "INVALIDLOCATOR")
        #expect(try session.get("/jobs/query/\(b)/resultPages?locator=\(locator)").errorCode() == "INVALIDLOCATOR")
    }

    @Test("Bulk API 2.0 limits: finished jobs are deleted after 7 days (admin clock), then 404")
    func jobsExpireAfterSevenDays() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 10 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let job = try session.run("SELECT Id FROM Contact")
        let clock = try Curl.request(
            "POST", emulator.baseURL + "/__emulator/clock", headers: ["Content-Type": "application/json"],
            body: #"{"advanceSeconds": 518400}"#)
        #expect(clock.status == 200)
        #expect(try session.get("/jobs/query/\(job)").status == 200, "6 days: still there")
        try emulator.advanceClock(seconds: 86401)
        #expect(try session.get("/jobs/query/\(job)").status == 404)
        #expect(try session.get("/jobs/query/\(job)/results").status == 404)
        let list = try session.get("/jobs/query").object()["records"] as? [[String: Any]] ?? []
        #expect(!list.contains { $0["id"] as? String == job })
    }

    // MARK: 7. Describe details (sObject Describe; REST API "Versions")

    @Test("sObject Describe: Id byteLength 18, short text areas filterable, Master record type")
    func describeDetails() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        for object in ["Contact", "Account", "Opportunity", "User"] {
            let describe = try session.get("/sobjects/\(object)/describe").object()
            let fields = describe["fields"] as? [[String: Any]] ?? []
            let byName = Dictionary(uniqueKeysWithValues: fields.map { ($0["name"] as? String ?? "", $0) })
            #expect(byName["Id"]?["byteLength"] as? Int == 18)
            for field in fields where field["type"] as? String == "reference" { #expect(field["byteLength"] as? Int == 18) }
            for field in fields where field["type"] as? String == "textarea" {
                #expect(field["filterable"] as? Bool == ((field["length"] as? Int ?? 0) <= 255), "\(field["name"] ?? "")")
            }
            let types = describe["recordTypeInfos"] as? [[String: Any]] ?? []
            let master = try #require(types.first { $0["master"] as? Bool == true })
            #expect(master["name"] as? String == "Master" && master["recordTypeId"] as? String == "012000000000000AAA")
        }
    }

    @Test("REST Versions: release labels (v48.0 Spring '20, v58.0 Summer '23, v60.0 Spring '24)")
    func releaseLabels() async throws {
        #expect(Router.releaseLabel(31) == "Summer '14")
        #expect(Router.releaseLabel(47) == "Winter '20")
        #expect(Router.releaseLabel(48) == "Spring '20")
        #expect(Router.releaseLabel(58) == "Summer '23")
        #expect(Router.releaseLabel(59) == "Winter '24")
        #expect(Router.releaseLabel(60) == "Spring '24")
        #expect(Router.releaseLabel(62) == "Winter '25")
        let emulator = try await TestEmulator.start { $0.contactCount = 1 }
        defer { try? emulator.shutdownBlocking() }
        let list = try Curl.request("GET", emulator.baseURL + "/services/data/").json() as? [[String: Any]] ?? []
        #expect(list.first { $0["version"] as? String == "48.0" }?["label"] as? String == "Spring '20")
    }
}
