import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@testable import SalesforceEmulator

/// The faults behind issue #9 (pages that look complete but are not, chains that end early or loop) and record
/// visibility.
@Suite struct PageFaultTests {
    private let gzipHeaders = ["Accept-Encoding": "gzip"]

    @Test func emptyGzipPageIsTheTenByteHeaderWithAMatchingLength() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 300 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id, Description FROM Contact")
        emulator.faults.emptyGzipPage(count: 1)
        // Only gzip bodies are affected: a plain request passes and leaves the fault armed.
        let plain = try session.get("/jobs/query/\(id)/results")
        #expect(plain.text.hasPrefix("\"Id\""))
        let empty = try session.get("/jobs/query/\(id)/results", headers: gzipHeaders)
        #expect(empty.status == 200 && empty.exitCode == 0)
        #expect(empty.body.count == 10)
        #expect(Array(empty.body.prefix(2)) == [0x1f, 0x8b])
        #expect(empty.header("Content-Length") == "10")
        #expect(empty.header("Content-Encoding") == "gzip")
        #expect(empty.header("Sforce-NumberOfRecords") == "300")
        #expect(empty.header("Sforce-Locator") == "null")
        let whole = try session.get("/jobs/query/\(id)/results", headers: gzipHeaders)
        #expect(try Gzip.decompress(whole.body) == plain.body)
    }

    @Test(arguments: [true, false])
    func cutAfterDelimiterIsAValidBodyMissingTheLastFieldAndLineEnding(gzip: Bool) async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 120 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id, LastName, Email FROM Contact")
        let headers = gzip ? gzipHeaders : [:]
        emulator.faults.cutAfterDelimiter(count: 1)
        let cut = try session.get("/jobs/query/\(id)/results?maxRecords=50", headers: headers)
        let whole = try session.get("/jobs/query/\(id)/results?maxRecords=50", headers: headers)
        #expect(cut.status == 200 && cut.exitCode == 0)
        #expect(cut.header("Content-Length") == String(cut.body.count))
        #expect(cut.header("Sforce-NumberOfRecords") == "50")
        let cutText = String(decoding: gzip ? try Gzip.decompress(cut.body) : cut.body, as: UTF8.self)
        let wholeText = String(decoding: gzip ? try Gzip.decompress(whole.body) : whole.body, as: UTF8.self)
        #expect(cutText.hasSuffix(","))
        #expect(wholeText.hasPrefix(cutText))
        // What is missing is exactly the last record's last field and its line ending.
        let missing = wholeText.dropFirst(cutText.count)
        #expect(missing.hasPrefix("\"") && missing.hasSuffix("\"\n"))
        #expect(!missing.dropLast().contains("\n"))
    }

    @Test func shortTotalEndsTheChainOnePageEarlyForTheBoundJobOnly() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 250 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let short = try session.run("SELECT Id FROM Contact")
        let normal = try session.run("SELECT Id FROM Contact")
        emulator.faults.shortTotal(jobs: 1)
        let pages = try session.pages(short, maxRecords: 100)
        #expect(pages.map { $0.header("Sforce-NumberOfRecords") } == ["100", "100"])
        #expect(pages.last?.header("Sforce-Locator") == "null")
        #expect(try session.wait(short)["numberRecordsProcessed"] as? Int == 250)
        // Still bound to that job: the listing has one link fewer too.
        let listing = try session.get("/jobs/query/\(short)/resultPages?maxRecords=100").object()
        #expect((listing["resultPages"] as? [Any])?.count == 2)
        // Only one job was armed.
        #expect(try session.pages(normal, maxRecords: 100).map { $0.header("Sforce-NumberOfRecords") } == ["100", "100", "50"])
    }

    @Test func shortTotalOfASinglePageJobDropsItsLastRecord() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 30 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id FROM Contact")
        emulator.faults.shortTotal()
        let pages = try session.pages(id, gzip: true)
        #expect(pages.count == 1)
        #expect(pages[0].header("Sforce-NumberOfRecords") == "29")
        let rows = CSV.rows(String(decoding: try Gzip.decompress(pages[0].body), as: UTF8.self))
        #expect(rows.count == 30)
        #expect(rows.dropFirst().map { $0[0] } == Array(emulator.org.ids("Contact", includeDeleted: false).dropLast()))
        #expect(try session.wait(id)["numberRecordsProcessed"] as? Int == 30)
    }

    @Test func loopLocatorPointsPagesAndListingsAtThemselves() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 250 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id FROM Contact")
        let second = try session.get("/jobs/query/\(id)/results?maxRecords=100").header("Sforce-Locator") ?? ""
        emulator.faults.loopLocator(count: 2)
        let looping = try session.get("/jobs/query/\(id)/results?maxRecords=100&locator=\(second)")
        #expect(looping.header("Sforce-Locator") == second)
        let listingPath = "/jobs/query/\(id)/resultPages?maxRecords=100"
        let listing = try session.get(listingPath).object()
        #expect(listing["nextRecordsUrl"] as? String == "/services/data/v62.0\(listingPath)")
        #expect(listing["done"] as? Bool == false)
        // Disarmed after `count` occasions.
        let fine = try session.get("/jobs/query/\(id)/results?maxRecords=100&locator=\(second)")
        #expect(fine.header("Sforce-Locator") != second)
    }

    @Test func compressResultsFalseAnswersPlainWhenAskedForGzip() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20; $0.compressResults = false }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id FROM Contact")
        let page = try session.get("/jobs/query/\(id)/results", headers: gzipHeaders)
        #expect(page.header("Content-Encoding") == nil)
        #expect(page.text.hasPrefix("\"Id\"\n"))
    }

    @Test func clearDisarmsTheNewFaults() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 250 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let id = try session.run("SELECT Id FROM Contact")
        emulator.faults.emptyGzipPage(count: 5)
        emulator.faults.cutAfterDelimiter(count: 5)
        emulator.faults.shortTotal(jobs: 5)
        emulator.faults.loopLocator(count: 5)
        emulator.faults.clear()
        let pages = try session.pages(id, maxRecords: 100, gzip: true)
        #expect(pages.map { $0.header("Sforce-NumberOfRecords") } == ["100", "100", "50"])
        #expect(try pages.allSatisfy { try Gzip.decompress($0.body).last == 10 })
    }

    @Test func hiddenRecordsVanishFromQueryAndQueryAllWithoutADelete() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 40 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let all = emulator.org.ids("Contact", includeDeleted: false)
        let hidden = Array(all[3..<6])
        let before = emulator.org.truth("Contact", fields: ["Id", "SystemModstamp"], includeDeleted: false)
        emulator.org.hide("Contact", ids: hidden)

        for operation in ["query", "queryAll"] {
            let id = try session.run("SELECT Id FROM Contact", operation: operation)
            #expect(try session.wait(id)["numberRecordsProcessed"] as? Int == 37)
            let ids = CSV.rows(try session.pages(id)[0].text).dropFirst().map { $0[0] }
            #expect(ids.count == 37)
            #expect(Set(ids).isDisjoint(with: hidden))
        }
        // Part of the org's data, but not of what the integration user sees; no modstamp moved, no deletion noted.
        #expect(emulator.org.truth("Contact", fields: ["Id", "SystemModstamp"], includeDeleted: false) == before)
        #expect(emulator.org.truth("Contact", fields: ["Id"], includeDeleted: true, includeHidden: false).count == 37)
        #expect(emulator.org.ids("Contact", includeDeleted: false, includeHidden: false) == all.filter { !hidden.contains($0) })
        #expect(emulator.org.snapshot().table("Contact")?.deletions.isEmpty == true)

        emulator.org.unhide("Contact", ids: hidden)
        let id = try session.run("SELECT Id FROM Contact")
        #expect(try session.wait(id)["numberRecordsProcessed"] as? Int == 40)
        #expect(emulator.org.truth("Contact", fields: ["Id", "SystemModstamp"], includeDeleted: false) == before)
    }

    @Test func theNewFaultsAndVisibilityThroughTheAdminAPI() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 250 }
        defer { try? emulator.shutdownBlocking() }
        let admin = "\(emulator.baseURL)/__emulator"
        let json = ["Content-Type": "application/json"]
        for body in [
            #"{"kind":"emptyGzipPage","count":2}"#, #"{"kind":"cutAfterDelimiter","count":3}"#,
            #"{"kind":"shortTotal","jobs":4}"#, #"{"kind":"loopLocator","count":5}"#,
        ] {
            #expect(try Curl.request("POST", "\(admin)/faults", headers: json, body: body).status == 200)
        }
        let state = emulator.faults.state.withLock { $0 }
        #expect(state.emptyGzipPages == 2 && state.cutAfterDelimiter == 3)
        #expect(state.shortTotal.armed == 4 && state.loopLocators == 5)

        let ids = Array(emulator.org.ids("Contact", includeDeleted: false).prefix(2))
        let hide = try Curl.request(
            "POST", "\(admin)/records/Contact/hide", headers: json, body: #"{"ids":["\#(ids[0])","\#(ids[1])"]}"#)
        #expect(hide.status == 200)
        let visible = try Curl.request("GET", "\(admin)/truth/Contact?fields=Id&includeHidden=false").object()
        #expect((visible["rows"] as? [Any])?.count == 248)
        let everything = try Curl.request("GET", "\(admin)/truth/Contact?fields=Id").object()
        #expect((everything["rows"] as? [Any])?.count == 250)
        #expect(try Curl.request("POST", "\(admin)/records/Contact/unhide", headers: json, body: #"{"ids":["\#(ids[0])"]}"#).status == 200)
        #expect(emulator.org.ids("Contact", includeDeleted: false, includeHidden: false).count == 249)
    }
}
