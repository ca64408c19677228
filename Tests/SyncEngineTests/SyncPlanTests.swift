import Testing

@testable import SyncEngine

@Suite struct SyncPlanTests {
    func job(_ extra: String = "") throws -> JobDefinition {
        try JobDefinition.parse(
            yaml: """
                object: Contact
                table: salesforce_contacts
                fields:
                  Id: salesforce_id
                  Email: email
                  SystemModstamp: system_modstamp
                  IsDeleted: is_deleted
                """ + extra,
            name: "contacts", file: "contacts.yaml")
    }

    @Test func firstRunIsAFullQueryAllThatSweeps() throws {
        let plan = try SyncPlan(job: job(), requested: nil, previousWatermark: nil)
        #expect(plan.mode == .full)
        #expect(plan.operation == .queryAll)
        #expect(plan.sweepsMissingKeys)
        #expect(plan.soql == "SELECT Id, SystemModstamp, IsDeleted, Email FROM Contact")
    }

    @Test func laterRunsReadFromTheWatermarkMinusTheOverlap() throws {
        let plan = try SyncPlan(job: job(), requested: nil, previousWatermark: "2024-01-15T10:30:00.250Z")
        #expect(plan.mode == .incremental)
        #expect(!plan.sweepsMissingKeys)
        #expect(plan.since == "2024-01-15T10:25:00.250Z")
        #expect(plan.soql == "SELECT Id, SystemModstamp, IsDeleted, Email FROM Contact WHERE SystemModstamp >= 2024-01-15T10:25:00.250Z")
    }

    @Test func overlapAndFilterComposeWithTheWatermark() throws {
        let plan = try SyncPlan(
            job: job("\nwhere: \"Email != null OR IsDeleted = true\"\noverlap: 1h"), requested: .incremental,
            previousWatermark: "2024-01-15T10:30:00.000Z")
        #expect(plan.soql.hasSuffix("WHERE (Email != null OR IsDeleted = true) AND SystemModstamp >= 2024-01-15T09:30:00.000Z"))
    }

    @Test func aFilteredFullSyncNeverSweeps() throws {
        let plan = try SyncPlan(job: job("\nwhere: \"Email != null\""), requested: .full, previousWatermark: "2024-01-15T10:30:00.000Z")
        #expect(plan.mode == .full)
        #expect(!plan.sweepsMissingKeys)
        #expect(plan.soql.hasSuffix("FROM Contact WHERE (Email != null)"))
    }

    @Test func ignoringDeletesUsesQueryNotQueryAll() throws {
        let job = try JobDefinition.parse(
            yaml: "object: Contact\ntable: t\nfields:\n  Id: id\n  SystemModstamp: m\ndeletes: ignore\n",
            name: "c", file: "c.yaml")
        let plan = try SyncPlan(job: job, requested: .full, previousWatermark: nil)
        #expect(plan.operation == .query)
        #expect(!plan.sweepsMissingKeys)
    }

    @Test(arguments: ["2024-01-15T10:30:00Z", "2024-01-15 10:30:00+00", "2024-01-15T10:30:00.000+00:00"])
    func readsWatermarksInEitherSpelling(watermark: String) throws {
        #expect(try SyncPlan.soqlDatetime(watermark, minusSeconds: 60) == "2024-01-15T10:29:00.000Z")
    }

    @Test func rejectsAnUnreadableWatermark() throws {
        #expect(throws: JobDefinitionError.self) { try SyncPlan(job: job(), requested: nil, previousWatermark: "yesterday") }
    }

    @Test func reusesOnlyALeftoverIncrementalJobThatReadsASuperset() throws {
        let plan = try SyncPlan(job: job(), requested: nil, previousWatermark: "2024-01-15T10:30:00.000Z")
        let older = try SyncPlan(job: job(), requested: nil, previousWatermark: "2024-01-15T09:00:00.000Z")
        let newer = try SyncPlan(job: job(), requested: nil, previousWatermark: "2024-01-15T11:00:00.000Z")
        #expect(plan.canReuse(jobWithSignature: plan.signature))
        #expect(plan.canReuse(jobWithSignature: older.signature))
        #expect(!plan.canReuse(jobWithSignature: newer.signature), "a later lower bound misses rows")
        let otherFields = try SyncPlan(
            job: job().with(extraField: "Phone"), requested: nil, previousWatermark: "2024-01-15T09:00:00.000Z")
        #expect(!plan.canReuse(jobWithSignature: otherFields.signature), "another field list fails the header check")
        let filtered = try SyncPlan(
            job: job("\nwhere: \"Email != null\""), requested: nil, previousWatermark: "2024-01-15T09:00:00.000Z")
        #expect(!plan.canReuse(jobWithSignature: filtered.signature))
        let full = try SyncPlan(job: job(), requested: .full, previousWatermark: "2024-01-15T10:30:00.000Z")
        #expect(!full.canReuse(jobWithSignature: full.signature), "a full run must see a snapshot it knows is complete")
        #expect(!plan.canReuse(jobWithSignature: "query " + plan.soql), "query instead of queryAll misses deletes")
    }
}

extension JobDefinition {
    fileprivate func with(extraField source: String) -> JobDefinition {
        var copy = self
        copy.fields.append(.init(source: source, column: source.lowercased(), line: nil))
        return copy
    }
}
