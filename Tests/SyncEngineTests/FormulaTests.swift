import Foundation
import PostgresLoader
import SalesforceEmulator
import SyncEngine
import Testing
import TestSupport

@Suite("Formula freshness: refresh_calculated")
struct FormulaTests {
    @Test("a formula changed without a SystemModstamp change is picked up by the refresh, not by an incremental run")
    func formulaRefresh() async throws {
        let world = try await E2EFixture { $0.contactCount = 200 }
        try world.connection.executeScript(
            "CREATE TABLE contact_labels (salesforce_id varchar(18) PRIMARY KEY, last_name text, display_label text, system_modstamp timestamptz NOT NULL, is_deleted boolean NOT NULL DEFAULT false)")
        let job = try world.writeJob(
            """
            object: Contact
            table: contact_labels
            fields:
              Id: salesforce_id
              LastName: last_name
              Display_Label__c: display_label
              SystemModstamp: system_modstamp
              IsDeleted: is_deleted
            refresh_calculated: 24h
            audit: true
            overlap: 1s
            """, name: "labels")
        try world.sync(job, .full)
        #expect(try world.value("SELECT calculated_refreshed_at IS NOT NULL FROM sfpg.sync_state") == "t")
        let id = world.emulator.org.ids("Contact", includeDeleted: false)[3]
        world.emulator.org.setCalculated("Contact", id: id, field: "Display_Label__c", value: "Recomputed elsewhere")
        let label = "SELECT display_label FROM contact_labels WHERE salesforce_id = $1"

        // The generated records' modstamps lie within seconds of each other; a short overlap keeps this one out of
        // the incremental read (a record it re-reads at the same version would be corrected by the merge).
        try world.sync(job, nil)
        #expect(world.submittedSOQL.count == 2, "the refresh is not due yet")
        #expect(try world.value(label, [id]) != "Recomputed elsewhere")

        try world.connection.execute("UPDATE sfpg.sync_state SET calculated_refreshed_at = now() - interval '25 hours'")
        try world.sync(job, nil)
        #expect(world.submittedSOQL.last == "SELECT Id, SystemModstamp, Display_Label__c FROM Contact")
        #expect(try world.value(label, [id]) == "Recomputed elsewhere")
        #expect(try world.value("SELECT now() - calculated_refreshed_at < interval '1 minute' FROM sfpg.sync_state") == "t")
        // The refresh's one change is in the audit trail, attributed to the run that triggered it.
        let audited = try world.connection.execute(
            "SELECT record_key, operation, changes -> 'display_label' ->> 'new', run_id IS NOT NULL FROM sfpg.changes WHERE operation <> 'insert'")
        #expect(audited.rows == [[id, "update", "Recomputed elsewhere", "t"]])
        let status = try StatusReport.collect(world.connection, jobs: [job])
        #expect(status.first?.calculatedRefreshedAt != nil)
        let differences = TestSyncTables.differences(
            expected: world.truth(job), actual: try world.typedTable(job), fields: job.fields.map(\.source))
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }
}
