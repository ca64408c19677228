import Foundation
@testable import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// REST calls beside Bulk: `query`/`queryAll` batches, getDeleted, against the emulator over HTTP.
@Suite(.timeLimit(.minutes(3))) struct RESTQueryTests {
    struct Row: Decodable, Equatable {
        var Id: String
        var LastName: String?
    }

    @Test func queryHandsOverOneBatchAtATimeFollowingNextRecordsURL() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 2_500 }
        let client = emulator.client()
        var batches: [Int] = []
        var ids: [String] = []
        let summary = try client.query("SELECT Id, LastName FROM Contact", batchSize: 1_000, as: Row.self) { rows in
            batches.append(rows.count)
            ids += rows.map(\.Id)
        }
        #expect(batches == [1_000, 1_000, 500])
        #expect(summary == QuerySummary(totalSize: 2_500, records: 2_500, pages: 3))
        #expect(Set(ids) == Set(emulator.emulator.org.ids("Contact", includeDeleted: false)))
        let requests = emulator.requests("GET", containing: "/query")
        #expect(requests.count == 3)
        #expect(requests.dropFirst().allSatisfy { !$0.query.contains("q=") })
        #expect(client.apiCallCount == 3)
    }

    @Test func queryAllSeesSoftDeletedRowsAndQueryDoesNot() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 40 }
        let victim = try #require(emulator.emulator.org.ids("Contact", includeDeleted: false).first)
        emulator.emulator.org.softDelete("Contact", id: victim)
        let client = emulator.client()
        var live: [String] = []
        var all: [String] = []
        _ = try client.query("SELECT Id FROM Contact", as: Row.self) { live += $0.map(\.Id) }
        _ = try client.query("SELECT Id FROM Contact", operation: .queryAll, as: Row.self) { all += $0.map(\.Id) }
        #expect(live.count == 39 && !live.contains(victim))
        #expect(all.count == 40 && all.contains(victim))
    }

    @Test func refusedSOQLIsAnInvalidQuery() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let error = try #require(throws: SalesforceError.self) {
            _ = try emulator.client().query("SELECT NoSuchField__c FROM Contact", as: Row.self) { _ in }
        }
        #expect(error.code == .invalidQuery)
        #expect(error.httpStatus == 400)
    }

    @Test func aRecordThatDoesNotFitTheTypeFailsThePage() throws {
        struct Strict: Decodable { var Email: String }
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 5 }
        // Email is null on some rows and absent from this SELECT on all: the page cannot be read as `Strict`.
        let error = try #require(throws: SalesforceError.self) {
            _ = try emulator.client().query("SELECT Id FROM Contact", as: Strict.self) { _ in }
        }
        #expect(error.code == .protocolViolation)
    }

    @Test func deletedRecordsListsDeletionsInTheWindow() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 20 }
        let ids = emulator.emulator.org.ids("Contact", includeDeleted: false)
        emulator.emulator.org.softDelete("Contact", id: ids[0])
        emulator.emulator.org.hardDelete("Contact", id: ids[1])
        let client = emulator.client()
        let now = Date()
        let deleted = try client.deletedRecords(of: "Contact", from: now - 3_600, to: now + 60)
        #expect(Set(deleted.records.map(\.id)) == [ids[0], ids[1]])
        #expect(deleted.records.allSatisfy { $0.deletedDate != nil })
        let earliest = try #require(deleted.earliestDateAvailable)
        #expect(earliest < now - 14 * 86_400)
        #expect(deleted.latestDateCovered != nil)
        let request = try #require(emulator.requests("GET", containing: "/deleted").first)
        #expect(request.path.hasSuffix("/sobjects/Contact/deleted/"))
    }

    @Test func deletedRecordsOlderThanTheLogIsSalesforcesError() throws {
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let now = Date()
        let error = try #require(throws: SalesforceError.self) {
            _ = try emulator.client().deletedRecords(of: "Contact", from: now - 30 * 86_400, to: now)
        }
        #expect(error.code == .http)
        #expect(error.errorCode == "INVALID_REPLICATION_DATE")
    }
}
