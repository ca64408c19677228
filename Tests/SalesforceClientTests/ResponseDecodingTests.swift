import Foundation
import Testing

@testable import SalesforceClient

/// Bodies shaped like those recorded from real orgs (salesforce-api.md §2, §5.3, §6, §8c), and the liberties the
/// reference marks UNCONFIRMED: extra keys, numbers sent as strings, `null`s, unknown states.
@Suite struct ResponseDecodingTests {
    private func decode<Value: Decodable>(_ type: Value.Type, _ body: String) throws -> Value {
        try LenientJSON.decode(type, from: Array(body.utf8), what: "test body")
    }

    /// Bulk JSON comes pretty-printed with a space before the colon, `apiVersion` a number.
    @Test func createResponseAsRecorded() throws {
        let job = try decode(QueryJob.self, """
            {
              "id" : "750R0000000zlh9IAA",
              "operation" : "query",
              "object" : "Contact",
              "createdById" : "005R0000000GiwjIAC",
              "createdDate" : "2024-09-09T13:08:34.000+0000",
              "systemModstamp" : "2024-09-09T13:08:34.000+0000",
              "state" : "UploadComplete",
              "concurrencyMode" : "Parallel",
              "contentType" : "CSV",
              "apiVersion" : 59.0,
              "lineEnding" : "LF",
              "columnDelimiter" : "COMMA"
            }
            """)
        #expect(job.id == "750R0000000zlh9IAA")
        #expect(job.state == .uploadComplete)
        #expect(!job.isTerminal)
        #expect(job.object == "Contact")
        #expect(job.apiVersion == "59.0")
        #expect(job.numberRecordsProcessed == nil)
    }

    @Test func jobInfoWithCountsAsStringsAndNulls() throws {
        let job = try decode(QueryJob.self, """
            {"id":"750x","state":"JobComplete","jobType":"V2Query","numberRecordsProcessed":"500","retries":0,
             "totalProcessingTime":334,"isPkChunkingSupported":true,"errorMessage":null,"apiVersion":"62.0",
             "object":null}
            """)
        #expect(job.state == .jobComplete)
        #expect(job.isTerminal)
        #expect(job.numberRecordsProcessed == 500)
        #expect(job.errorMessage == nil)
        #expect(job.apiVersion == "62.0")
        #expect(job.object == nil)
    }

    @Test(arguments: [
        ("UploadComplete", QueryJob.State.uploadComplete), ("InProgress", .inProgress), ("JobComplete", .jobComplete),
        ("Failed", .failed), ("Aborted", .aborted), ("jobcomplete", .jobComplete), ("Queued", .unknown("Queued")),
    ])
    func statesAreReadLiberally(text: String, state: QueryJob.State) throws {
        let job = try decode(QueryJob.self, #"{"id":"750x","state":"\#(text)"}"#)
        #expect(job.state == state)
        #expect(job.isTerminal == [.jobComplete, .failed, .aborted].contains(state))
    }

    @Test func aJobWithoutStateIsAProtocolViolation() throws {
        let error = try #require(throws: SalesforceError.self) { try decode(QueryJob.self, #"{"id":"750x"}"#) }
        #expect(error.code == .protocolViolation)
        #expect(error.message.contains("'state'"))
        let notJSON = try #require(throws: SalesforceError.self) { try decode(QueryJob.self, "<html>busy</html>") }
        #expect(notJSON.code == .protocolViolation)
        #expect(notJSON.message.contains("is not JSON"))
    }

    @Test func tokenResponseAsRecorded() throws {
        let token = try decode(TokenResponse.self, """
            {"access_token":"00Dxx0000000000!AR8AQ","instance_url":"https://acme.my.salesforce.com",
             "id":"https://login.salesforce.com/id/00Dxx0000000000EAA/005xx000001Sv6eAAC","token_type":"Bearer",
             "issued_at":"1278448832702","signature":"0CmxinZir53Yex7nE0TD+zMpvIWYGb/bdJh6XfOH6EQ=","scope":"api id",
             "api_instance_url":"https://api.salesforce.com"}
            """)
        #expect(token.accessToken == "00Dxx0000000000!AR8AQ")
        #expect(token.instanceURL == "https://acme.my.salesforce.com")
        #expect(token.refreshToken == nil)
        let rotated = try decode(TokenResponse.self, #"{"access_token":"a","instance_url":null,"refresh_token":"5Aep"}"#)
        #expect(rotated.instanceURL == nil)
        #expect(rotated.refreshToken == "5Aep")
    }

    /// Entries carry per-app sub-objects; anything that is not `{Max, Remaining}` is skipped.
    @Test func limitsWithPerAppEntriesAndOddValues() throws {
        let limits = try OrgLimit.limits(fromBody: Array("""
            {"DailyApiRequests":{"Max":15000,"Remaining":14998,"Salesforce CLI":{"Max":0,"Remaining":0}},
             "DailyBulkV2QueryJobs":{"Max":"10000","Remaining":"9990"},
             "DailyBulkV2QueryFileStorageMB":{"Max":1048576,"Remaining":1048500.0},
             "NotALimit":7,"HalfALimit":{"Max":5},"Nulls":{"Max":null,"Remaining":null}}
            """.utf8))
        #expect(limits["DailyApiRequests"] == OrgLimit(max: 15_000, remaining: 14_998))
        #expect(limits["DailyBulkV2QueryJobs"] == OrgLimit(max: 10_000, remaining: 9_990))
        #expect(limits["DailyBulkV2QueryFileStorageMB"] == OrgLimit(max: 1_048_576, remaining: 1_048_500))
        #expect(limits.count == 3)
        #expect(throws: SalesforceError.self) { try OrgLimit.limits(fromBody: Array("[]".utf8)) }
    }

    @Test func describeReadsFieldsLiberally() throws {
        let description = try SObjectDescription(describeBody: Array("""
            {"actionOverrides":[],"activateable":false,"custom":false,"fields":[
              {"aggregatable":true,"autoNumber":false,"byteLength":18,"calculated":false,"compoundFieldName":null,
               "custom":false,"digits":0,"length":18,"name":"Id","nillable":false,"precision":0,"referenceTo":[],
               "relationshipName":null,"scale":0,"soapType":"tns:ID","type":"id"},
              {"name":"AccountId","type":"reference","referenceTo":["Account",null],"relationshipName":"Account",
               "nillable":true,"length":"18"},
              {"label":"a field without a name","type":"string"},
              {"name":"Latitude__c","type":"double","precision":18,"scale":15,"custom":"true","calculated":1},
              {"name":"MailingCity","type":"string","compoundFieldName":"MailingAddress","length":40}
            ],"keyPrefix":"003","label":"Contact","name":"Contact","queryable":true}
            """.utf8), object: "contact")
        #expect(description.name == "Contact")
        #expect(description.fields.map(\.name) == ["Id", "AccountId", "Latitude__c", "MailingCity"])
        let id = try #require(description.field("id"))
        #expect(id.type == "id" && id.soapType == "tns:ID" && !id.nillable && id.length == 18)
        let account = try #require(description.field("AccountId"))
        #expect(account.referenceTo == ["Account"] && account.relationshipName == "Account" && account.length == 18)
        let latitude = try #require(description.field("Latitude__c"))
        #expect(latitude.precision == 18 && latitude.scale == 15 && latitude.custom && latitude.calculated)
        #expect(description.field("MailingCity")?.compoundFieldName == "MailingAddress")
        let bare = try SObjectDescription(describeBody: Array(#"{"fields":null}"#.utf8), object: "Thing__c")
        #expect(bare.name == "Thing__c" && bare.fields.isEmpty)
    }

    @Test func errorBodiesOfEveryShape() throws {
        let bulk = try #require(ServerError(body: Array(#"[{"errorCode" : "INVALIDJOBSTATE", "message" : "Job is done"}]"#.utf8)))
        #expect(bulk.errorCode == "INVALIDJOBSTATE" && bulk.message == "Job is done")
        let rest = try #require(
            ServerError(body: Array(#"[{"message":"No such column","errorCode":"INVALID_FIELD","fields":["X"]},7]"#.utf8)))
        #expect(rest.errorCode == "INVALID_FIELD")
        let oauth = try #require(
            ServerError(body: Array(#"{"error":"invalid_grant","error_description":"authentication failure"}"#.utf8)))
        #expect(oauth.errorCode == "invalid_grant" && oauth.message == "authentication failure")
        for body in ["", "<html>We are setting things up</html>", "[]", "[7]", #"{"other":1}"#, "null"] {
            #expect(ServerError(body: Array(body.utf8)) == nil, "\(body)")
        }
        let long = try #require(ServerError(body: Array((#"[{"message":""# + String(repeating: "z", count: 5_000) + #""}]"#).utf8)))
        #expect(long.message?.count == 2_001)
    }

    @Test func resultPagesAnswerUnderEitherSpelling() throws {
        let documented = try decode(ResultPagesAnswer.self, """
            {"resultPages":[{"resultLink":"/services/data/v63.0/jobs/query/750x/results?locator=MTAwMDA"},{"other":1}],
             "nextRecordsUrl":"/services/data/v63.0/jobs/query/750x/resultPages?locator=abc","done":false}
            """)
        #expect(documented.links == ["/services/data/v63.0/jobs/query/750x/results?locator=MTAwMDA"])
        #expect(documented.next?.hasSuffix("locator=abc") == true)
        #expect(documented.done == false)
        let table = try decode(ResultPagesAnswer.self, #"{"resultPages":[{"resultUrl":"/a"}],"nextRecordUrl":null}"#)
        #expect(table.links == ["/a"] && table.next == nil && table.done == nil)
        #expect(throws: SalesforceError.self) { try decode(ResultPagesAnswer.self, #"{"resultPages":null}"#) }
        #expect(throws: SalesforceError.self) { try decode(ResultPagesAnswer.self, #"{"records":[]}"#) }
    }
}

/// REST shapes from salesforce-api.md §7 and §8c, and the datetimes every Salesforce API writes.
@Suite struct RESTResponseDecodingTests {
    @Test func getDeletedAsDocumented() throws {
        let answer = try LenientJSON.decode(DeletedRecords.self, from: Array("""
            {"deletedRecords":[{"id":"003x0000001","deletedDate":"2013-05-07T22:07:19.000+0000"},
             {"id":"003x0000002","deletedDate":"2013-05-07T22:07:19Z","extra":1}],
             "earliestDateAvailable":"2013-05-03T15:57:00.000+0000","latestDateCovered":"2013-05-08T21:20:00.000+0000"}
            """.utf8), what: "getDeleted")
        #expect(answer.records.map(\.id) == ["003x0000001", "003x0000002"])
        #expect(answer.records[0].deletedDate == answer.records[1].deletedDate)
        #expect(answer.records[0].deletedDate == Date(timeIntervalSince1970: 1_367_964_439))
        #expect(answer.latestDateCovered == Date(timeIntervalSince1970: 1_368_048_000))
        let none = try LenientJSON.decode(
            DeletedRecords.self, from: Array(#"{"deletedRecords":[],"earliestDateAvailable":null}"#.utf8), what: "x")
        #expect(none.records.isEmpty && none.earliestDateAvailable == nil)
        // An entry without an id would keep a deleted row forever: the answer fails instead.
        #expect(throws: SalesforceError.self) {
            try LenientJSON.decode(DeletedRecords.self, from: Array(#"{"deletedRecords":[{"deletedDate":null}]}"#.utf8), what: "x")
        }
    }

    @Test func recordCountsByName() throws {
        let answer = try LenientJSON.decode(RecordCountAnswer.self, from: Array("""
            {"sObjects":[{"count":3,"name":"Account"},{"count":"1200000","name":"Contact"},{"name":"Broken"}]}
            """.utf8), what: "recordCount")
        #expect(answer.counts == ["Account": 3, "Contact": 1_200_000])
    }

    @Test func queryBatchesAsRecorded() throws {
        struct Row: Decodable { var Id: String }
        let middle = try LenientJSON.decode(QueryResultPage<Row>.self, from: Array("""
            {"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gx-2000",
             "records":[{"attributes":{"type":"Contact","url":"/services/data/v62.0/sobjects/Contact/003a"},"Id":"003a"}]}
            """.utf8), what: "query")
        #expect(!middle.done && middle.nextRecordsUrl == "/services/data/v62.0/query/01gx-2000")
        #expect(middle.records.map(\.Id) == ["003a"])
        let last = try LenientJSON.decode(
            QueryResultPage<Row>.self, from: Array(#"{"totalSize":3,"done":true,"records":[{"Id":"003c"}]}"#.utf8),
            what: "query")
        #expect(last.done && last.nextRecordsUrl == nil)
        let count = try LenientJSON.decode(
            QueryResultPage<Row>.self, from: Array(#"{"totalSize":42,"done":true,"records":[]}"#.utf8), what: "query")
        #expect(count.totalSize == 42 && count.records.isEmpty)
    }

    @Test(arguments: [
        "2024-09-09T13:08:34.000+0000", "2024-09-09T13:08:34Z", "2024-09-09T13:08:34.000Z", "2024-09-09T15:08:34+02:00",
        "2024-09-09T08:08:34.000-0500",
    ])
    func datetimesInEverySpelling(text: String) {
        #expect(SalesforceDateTime.parse(text) == Date(timeIntervalSince1970: 1_725_887_314))
    }

    @Test func datetimesThatAreNot() {
        for text in ["", "2024-09-09", "2024-09-09T13:08:34", "2024-13-09T13:08:34Z", "2024-09-09T13:08:34+00", "x"] {
            #expect(SalesforceDateTime.parse(text) == nil, "\(text)")
        }
    }

    @Test func datetimesRoundTrip() {
        for seconds in [0.0, 1_725_887_314.25, 951_782_400, -86_400.5, 4_102_444_800] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(SalesforceDateTime.parse(SalesforceDateTime.format(date)) == date, "\(seconds)")
        }
        #expect(SalesforceDateTime.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000+00:00")
    }

    @Test func jobCreatedDateIsSalesforcesClock() throws {
        let job = try LenientJSON.decode(
            QueryJob.self, from: Array(#"{"id":"750x","state":"InProgress","createdDate":"2024-09-09T13:08:34.000+0000"}"#.utf8),
            what: "job")
        #expect(job.createdDate == Date(timeIntervalSince1970: 1_725_887_314))
    }
}
