import Testing

@testable import SalesforceClient

/// A REST query batch rewritten as the CSV a Bulk API result page would hold, for objects the Bulk API cannot read.
@Suite struct RESTBatchCSVTests {
    func csv(_ json: String, _ fields: [String]) throws -> (RESTBatchCSV, String) {
        let batch = try RESTBatchCSV(body: Array(json.utf8), fields: fields)
        return (batch, String(decoding: batch.csv, as: UTF8.self))
    }

    @Test func valuesAreWrittenAsBulkWritesThem() throws {
        let json = #"""
            {"totalSize": 2, "done": false, "nextRecordsUrl": "/services/data/v62.0/query/01g-2000", "records": [
              {"attributes": {"type": "Contact", "url": "/x"}, "Id": "003A", "Name": "Say \"hi\", \\ \u00e9\ud83d\ude00",
               "IsDeleted": false, "Amount__c": 1.0E7, "Birthdate": "2024-02-29",
               "SystemModstamp": "2024-01-15T10:30:00.000+0000", "Account": {"attributes": {}, "Name": "Acme\nInc"}},
              {"Id": "003B", "Name": null, "IsDeleted": true, "Amount__c": -0.5, "Birthdate": null,
               "SystemModstamp": "2024-01-15T10:30:00.000+0000", "Account": null}
            ]}
            """#
        let (batch, text) = try csv(json, ["Id", "name", "IsDeleted", "Amount__c", "Birthdate", "SystemModstamp", "Account.Name"])
        #expect(batch.totalSize == 2 && batch.done == false && batch.records == 2)
        #expect(batch.nextRecordsUrl == "/services/data/v62.0/query/01g-2000")
        #expect(text == """
            "Id","name","IsDeleted","Amount__c","Birthdate","SystemModstamp","Account.Name"
            "003A","Say ""hi"", \\ é😀","false","1.0E7","2024-02-29","2024-01-15T10:30:00.000+0000","Acme
            Inc"
            "003B",,"true","-0.5",,"2024-01-15T10:30:00.000+0000",

            """)
    }

    @Test(arguments: [
        #"{"totalSize": 1, "done": true, "records": [{"Id": "1"}"#,
        #"{"totalSize": 1, "done": true, "records": [{"Id": "1", "Address": {"city": "x"}}]}"#,
        #"{"totalSize": 1, "done": true, "records": ["not a record"]}"#,
    ])
    func malformedBatchesAreRefused(json: String) throws {
        #expect(throws: SalesforceError.self) { try RESTBatchCSV(body: Array(json.utf8), fields: ["Id", "Address"]) }
    }

    @Test func anEmptyBatchIsOnlyTheHeader() throws {
        let (batch, text) = try csv(#"{"totalSize":0,"done":true,"records":[]}"#, ["Id"])
        #expect(batch.records == 0 && batch.done == true && batch.nextRecordsUrl == nil && text == "\"Id\"\n")
    }
}
