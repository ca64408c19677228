import CivilTime
import Foundation
@testable import SalesforceEmulator
import TestSupport
import Testing

/// getDeleted and getUpdated (whole minutes, their windows and Id limit) and the recycle bin's purge.
@Suite struct ReplicationTests {
    /// `start=…&end=…` for a window given in emulator-clock milliseconds, `+` encoded as a client must.
    static func window(_ start: Int64, _ end: Int64) -> String {
        func stamp(_ millis: Int64) -> String {
            Timestamps.restDatetime(millis: millis).replacingOccurrences(of: "+", with: "%2B")
        }
        return "start=\(stamp(start))&end=\(stamp(end))"
    }

    static func deletedIds(_ body: [String: Any]) -> [String] {
        (body["deletedRecords"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test func windowsAreWholeMinutesAndLatestDateCoveredIsAMinuteBoundary() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        let session = try Session(emulator)
        let t0 = emulator.org.clock.now()
        emulator.org.softDelete("Contact", id: ids[1])
        emulator.org.update("Contact", id: ids[2], fields: ["Title": "x"])
        let deletedAt = try #require(emulator.org.truth("Contact", fields: ["SystemModstamp"], includeDeleted: true)[1][0])
        let minute = Router.wholeMinute(Timestamps.parseDatetime(deletedAt)!)
        // An end inside the deletion's minute drops its seconds: the deletion is not in [start, end).
        let before = try session.get("/sobjects/Contact/deleted/?\(Self.window(t0 - 3_600_000, minute + 59_000))").object()
        #expect(Self.deletedIds(before).isEmpty)
        let after = try session.get("/sobjects/Contact/deleted/?\(Self.window(t0 - 3_600_000, minute + 60_000))").object()
        #expect(Self.deletedIds(after) == [ids[1]])
        let record = try #require((after["deletedRecords"] as? [[String: Any]])?.first)
        #expect(record["deletedDate"] as? String == Timestamps.restDatetime(millis: Timestamps.parseDatetime(deletedAt)!))
        for key in ["earliestDateAvailable", "latestDateCovered"] {
            #expect((after[key] as? String)?.hasSuffix(":00.000+0000") == true, "\(key): \(after[key] ?? "")")
        }
        let updated = try session.get("/sobjects/Contact/updated/?\(Self.window(t0 - 3_600_000, minute + 60_000))").object()
        #expect(updated["ids"] as? [String] == [ids[2]])
        #expect(Set(updated.keys) == ["ids", "latestDateCovered"])
        // A window that is empty once the seconds are dropped is an error, as is an end before the start.
        let empty = try session.get("/sobjects/Contact/deleted/?\(Self.window(minute + 10_000, minute + 50_000))")
        #expect(empty.status == 400 && empty.errorCode() == "INVALID_REPLICATION_DATE")
    }

    @Test func horizonsAre15DaysForDeletesAnd30ForUpdates() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let now = emulator.org.clock.now()
        let day: Int64 = 86_400_000
        let deletes20 = try session.get("/sobjects/Contact/deleted/?\(Self.window(now - 20 * day, now))")
        #expect(deletes20.status == 400 && deletes20.errorCode() == "INVALID_REPLICATION_DATE")
        #expect(try session.get("/sobjects/Contact/updated/?\(Self.window(now - 20 * day, now))").status == 200)
        let updates40 = try session.get("/sobjects/Contact/updated/?\(Self.window(now - 40 * day, now))")
        #expect(updates40.status == 400 && updates40.errorCode() == "INVALID_REPLICATION_DATE")
        let deletes14 = try session.get("/sobjects/Contact/deleted/?\(Self.window(now - 14 * day, now))").object()
        let earliest = try #require((deletes14["earliestDateAvailable"] as? String).flatMap(Timestamps.parseDatetime))
        #expect(abs(earliest - (now - 15 * day)) <= 60_000)
    }

    @Test func tooManyIdsIsExceededIdLimit() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20; $0.replicationIdLimit = 3 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        let session = try Session(emulator)
        let t0 = emulator.org.clock.now()
        for id in ids.prefix(4) {
            emulator.org.softDelete("Contact", id: id)
            emulator.org.update("Contact", id: ids[10], fields: ["Title": id])
        }
        for id in ids.dropFirst(10).prefix(3) { emulator.org.update("Contact", id: id, fields: ["Title": "y"]) }
        let window = Self.window(t0 - 3_600_000, t0 + 120_000)
        let deleted = try session.get("/sobjects/Contact/deleted/?\(window)")
        #expect(deleted.status == 400 && deleted.errorCode() == "EXCEEDED_ID_LIMIT")
        // Three updated records (one of them updated four times): within the limit.
        let updated = try session.get("/sobjects/Contact/updated/?\(window)").object()["ids"] as? [String] ?? []
        #expect(Set(updated) == Set(ids[10..<13]) && updated.count == 3)
    }

    @Test func aNonReplicateableObjectSaysSoAndRefusesReplication() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5; $0.nonReplicateableObjects = ["Opportunity"] }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let now = emulator.org.clock.now()
        #expect(try session.get("/sobjects/Opportunity/describe").object()["replicateable"] as? Bool == false)
        #expect(try session.get("/sobjects/Contact/describe").object()["replicateable"] as? Bool == true)
        let listed = try session.get("/sobjects").object()["sobjects"] as? [[String: Any]] ?? []
        #expect(listed.first { $0["name"] as? String == "Opportunity" }?["replicateable"] as? Bool == false)
        for kind in ["deleted", "updated"] {
            let refused = try session.get("/sobjects/Opportunity/\(kind)/?\(Self.window(now - 3_600_000, now))")
            #expect(refused.status == 400 && refused.errorCode() == "INVALID_TYPE")
        }
        #expect(try session.get("/sobjects/Contact/deleted/?\(Self.window(now - 3_600_000, now))").status == 200)
    }

    @Test func purgedRecordsVanishFromQueryAllAndGetDeleted() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 20; $0.recycleBinRetention = .seconds(3600) }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        let session = try Session(emulator)
        let t0 = emulator.org.clock.now()
        emulator.org.softDelete("Contact", id: ids[1])
        func queryAllCount() throws -> Int? {
            try session.restQuery("SELECT COUNT() FROM Contact", all: true).object()["totalSize"] as? Int
        }
        #expect(try queryAllCount() == 20)
        // Past the retention, the record is purged.
        try emulator.advanceClock(seconds: 3700)
        #expect(try queryAllCount() == 19)
        let later = emulator.org.clock.now()
        // A window from before the purge fails (the client must replicate in full); one after it names the point.
        let lost = try session.get("/sobjects/Contact/deleted/?\(Self.window(t0 - 60_000, later))")
        #expect(lost.status == 400 && lost.errorCode() == "INVALID_REPLICATION_DATE")
        let body = try session.get("/sobjects/Contact/deleted/?\(Self.window(t0 + 120_000, later))").object()
        #expect(Self.deletedIds(body).isEmpty)
        let earliest = try #require((body["earliestDateAvailable"] as? String).flatMap(Timestamps.parseDatetime))
        #expect(earliest > t0 && earliest <= t0 + 120_000, "earliestDateAvailable moves past the purged deletion")
        // Emptying the recycle bin through the admin API purges at once.
        emulator.org.softDelete("Contact", id: ids[2])
        #expect(try queryAllCount() == 19)
        let purge = try Curl.request("POST", "\(emulator.baseURL)/__emulator/recycleBin/purge", body: #"{"object":"Contact"}"#)
        #expect(purge.status == 200)
        #expect(try queryAllCount() == 18)
        #expect(try session.restQuery("SELECT COUNT() FROM Contact").object()["totalSize"] as? Int == 18)
        let bulk = try session.run("SELECT Id FROM Contact", operation: "queryAll")
        #expect(try session.pages(bulk).flatMap { CSV.rows($0.text).dropFirst() }.count == 18)
    }
}
