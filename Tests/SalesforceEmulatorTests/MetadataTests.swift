import Foundation
import SalesforceEmulator
import TestSupport
import Testing

@Suite struct MetadataTests {
    @Test func describeContactHasRealisticFields() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let describe = try Session(emulator).get("/sobjects/Contact/describe").object()
        #expect(describe["name"] as? String == "Contact" && describe["keyPrefix"] as? String == "003")
        let fields = try #require(describe["fields"] as? [[String: Any]])
        #expect(fields.count >= 34)
        let byName = Dictionary(uniqueKeysWithValues: fields.map { ($0["name"] as? String ?? "", $0) })
        for key in ["name", "type", "soapType", "length", "precision", "scale", "digits", "nillable", "calculated",
                    "custom", "createable", "updateable", "referenceTo", "relationshipName", "compoundFieldName",
                    "picklistValues", "label"] {
            #expect(fields.allSatisfy { $0[key] != nil }, "missing \(key)")
        }
        #expect(byName["Id"]?["type"] as? String == "id")
        #expect(byName["MailingAddress"]?["type"] as? String == "address")
        #expect(byName["MailingAddress"]?["soapType"] as? String == "urn:address")
        #expect(byName["MailingCity"]?["compoundFieldName"] as? String == "MailingAddress")
        #expect(byName["AccountId"]?["referenceTo"] as? [String] == ["Account"])
        #expect(byName["AccountId"]?["relationshipName"] as? String == "Account")
        #expect(byName["SystemModstamp"]?["type"] as? String == "datetime")
        #expect(byName["Display_Label__c"]?["calculated"] as? Bool == true)
        #expect(byName["Display_Label__c"]?["custom"] as? Bool == true)
        let customTypes = Set(fields.filter { $0["custom"] as? Bool == true }.compactMap { $0["type"] as? String })
        #expect(customTypes.isSuperset(of: ["double", "currency", "percent", "picklist", "multipicklist",
                                            "boolean", "url", "textarea", "date", "time", "datetime"]))
        // Custom Number fields are always double in a real describe.
        #expect(customTypes.isDisjoint(with: ["int", "long"]))
        #expect((byName["LeadSource"]?["picklistValues"] as? [[String: Any]])?.isEmpty == false)
    }

    @Test func describeOtherObjectsAndUnknown() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        #expect(try session.get("/sobjects/Account/describe").object()["keyPrefix"] as? String == "001")
        #expect(try session.get("/sobjects/Opportunity/describe").object()["keyPrefix"] as? String == "006")
        let unknown = try session.get("/sobjects/Widget__c/describe")
        #expect(unknown.status == 404)
        #expect(unknown.errorCode() == "NOT_FOUND")
    }

    @Test func limitsDecrementAndUsageHeader() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 5; $0.dailyApiRequests = 500 }
        defer { try? emulator.shutdownBlocking() }
        let session = try Session(emulator)
        let first = try session.get("/limits")
        let limits = try first.object()
        let api = try #require(limits["DailyApiRequests"] as? [String: Any])
        #expect((api["Max"] as? NSNumber)?.intValue == 500)
        #expect((api["Remaining"] as? NSNumber)?.intValue == 499)
        #expect(first.header("Sforce-Limit-Info") == "api-usage=1/500")
        _ = try session.run("SELECT Id FROM Contact")
        let after = try session.get("/limits").object()
        #expect(((after["DailyApiRequests"] as? [String: Any])?["Remaining"] as? NSNumber)?.intValue ?? 0 < 498)
        let jobs = try #require(after["DailyBulkV2QueryJobs"] as? [String: Any])
        #expect((jobs["Max"] as? NSNumber)?.intValue == 10_000 && (jobs["Remaining"] as? NSNumber)?.intValue == 9_999)
        #expect(after["DailyBulkV2QueryFileStorageMB"] is [String: Any])
    }

    @Test func versionsAndUnknownVersion() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let versions = try Curl.request("GET", "\(emulator.baseURL)/services/data/")
        let list = try #require(try versions.json() as? [[String: Any]])
        #expect(list.first?["version"] as? String == "47.0" && list.last?["version"] as? String == "62.0")
        #expect(list.last?["url"] as? String == "/services/data/v62.0")
        var session = try Session(emulator)
        session.version = "63.0"
        #expect(try session.get("/limits").status == 404)
        session.version = "47.0"
        #expect(try session.get("/limits").status == 200)
    }

    @Test func missingOrBadTokenIs401JSONArray() async throws {
        let emulator = try await TestEmulator.start()
        defer { try? emulator.shutdownBlocking() }
        let response = try Curl.request("GET", "\(emulator.baseURL)/services/data/v62.0/limits", headers: ["Authorization": "Bearer 00Dnope!AR"])
        #expect(response.status == 401)
        #expect(response.errorCode() == "INVALID_SESSION_ID")
        #expect(response.errorMessage() == "Session expired or invalid")
    }

    @Test func deletedRecordsEndpointListsDeletionsInWindow() async throws {
        let emulator = try await TestEmulator.start { $0.contactCount = 10 }
        defer { try? emulator.shutdownBlocking() }
        let ids = emulator.org.ids("Contact", includeDeleted: false)
        emulator.org.softDelete("Contact", id: ids[1])
        emulator.org.hardDelete("Contact", id: ids[2])
        emulator.org.softDelete("Contact", id: ids[3])
        emulator.org.undelete("Contact", id: ids[3])
        let session = try Session(emulator)
        let now = Date().timeIntervalSince1970
        func stamp(_ t: TimeInterval) -> String {
            let formatter = ISO8601DateFormatter()
            return formatter.string(from: Date(timeIntervalSince1970: t)).replacingOccurrences(of: "Z", with: "%2B00:00")
        }
        let body = try session.get("/sobjects/Contact/deleted/?start=\(stamp(now - 3600))&end=\(stamp(now + 120))").object()
        let deleted = (body["deletedRecords"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(deleted == [ids[1], ids[2]])
        #expect(body["earliestDateAvailable"] is String && body["latestDateCovered"] is String)
        let tooOld = try session.get("/sobjects/Contact/deleted/?start=\(stamp(now - 40 * 86_400))&end=\(stamp(now))")
        #expect(tooOld.status == 400)
    }
}
