import Avro
import CivilTime
import Foundation
import Logging
import PostgresLoader
import SalesforceClient
import Testing
import TestSupport

@testable import SyncEngine

/// Change events applied to a real PostgreSQL (issue #20, "Apply" and "Heal"): events are built as the subscriber
/// decodes them, re-reads and heals go to the emulator over HTTP.
@Suite("Stream apply: change events into the table", .serialized)
struct StreamApplyTests {
    /// The Contact change event's fields the tests use; every event carries all of them (unset ones null), as a
    /// decoded payload does.
    static let eventFields = [
        "Name", "Email", "Phone", "AccountId", "Title", "Department", "CreatedDate", "LastModifiedDate", "MailingAddress",
        "Birthdate", "Description", "Languages__c",
    ]

    static func name(_ first: String?, _ last: String?) -> AvroValue {
        .record([
            AvroEntry(name: "Salutation", value: .null), AvroEntry(name: "FirstName", value: first.map { .string($0) } ?? .null),
            AvroEntry(name: "LastName", value: last.map { .string($0) } ?? .null),
        ])
    }

    static func event(
        _ type: ChangeEvent.ChangeType, _ ids: [String], at stamp: Int64, changed: [String] = [], nulled: [String] = [],
        diff: [String] = [], _ values: [String: AvroValue] = [:], replay: UInt8 = 1
    ) -> ChangeEvent {
        var fields = Dictionary(uniqueKeysWithValues: eventFields.map { ($0, AvroValue.null) })
        fields.merge(values) { $1 }
        return ChangeEvent(
            entityName: "Contact", recordIds: ids, changeType: type, commitTimestamp: stamp, commitNumber: stamp,
            changedFields: changed, nulledFields: nulled, diffFields: diff, fields: type.isGap ? [:] : fields,
            replayId: [0xAB, replay])
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func applier(_ world: E2EFixture, _ job: JobDefinition) throws -> StreamApplier {
        let logger = Logger(label: "stream") { _ in SwiftLogNoOpLogHandler() }
        var configuration = try SalesforceConfiguration.fromEnvironment(world.environment)
        configuration.pollInitialInterval = .milliseconds(20)
        configuration.pollMaxInterval = .milliseconds(100)
        return try StreamApplier(
            job: job, connection: try PostgresConnection(world.conninfo, applicationName: "sfpg-stream-test"),
            client: SalesforceClient(configuration: configuration, logger: logger), logger: logger)
    }

    /// A world with the contacts job loaded and its stream started (the first, healing batch applied).
    func started(contacts: Int = 20, audit: Bool = true, deletes: DeleteMode = .soft) async throws
        -> (E2EFixture, JobDefinition, StreamApplier)
    {
        let world = try await E2EFixture { $0.contactCount = contacts }
        var job = try world.job("contacts")
        job.audit = audit
        job.deletes = deletes
        try world.sync(job, .full)
        let stream = try applier(world, job)
        let first = try stream.apply([], lastReplayId: [0xAB, 0])
        #expect(first.catchUp == .noPosition)
        return (world, job, stream)
    }

    func row(_ world: E2EFixture, _ id: String, _ columns: String) throws -> [String?] {
        try world.connection.execute("SELECT \(columns) FROM public.salesforce_contacts WHERE salesforce_id = $1", [id])
            .rows.first ?? []
    }

    func storedReplay(_ world: E2EFixture) throws -> String? {
        try world.connection.execute(
            "SELECT encode(stream_replay_id, 'hex') AS r FROM sfpg.sync_state WHERE job_name = 'contacts'")[0, "r"]
    }

    @Test("CREATE, UPDATE, DELETE and UNDELETE reach the table, with audit rows and the replay id in one commit")
    func eachChangeType() async throws {
        let (world, job, stream) = try await started()
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        let (updated, deleted) = (ids[0], ids[1])
        let new = "003000000000NEWAAA"
        let t = Self.now - 10_000
        let outcome = try stream.apply(
            [
                Self.event(.create, [new], at: t, ["Name": Self.name("Ada", "Lovelace"), "Email": .string("ada@example.com"),
                                                   "CreatedDate": .int(t), "LastModifiedDate": .int(t)]),
                Self.event(.update, [updated], at: t, changed: ["Title", "LastModifiedDate"], nulled: ["Phone"],
                           ["Title": .string("Countess"), "LastModifiedDate": .int(t)]),
                Self.event(.delete, [deleted], at: t),
            ], lastReplayId: [0xAB, 7])
        #expect(outcome.catchUp == nil)
        #expect(outcome.rows.inserted == 1 && outcome.rows.updated == 1 && outcome.rows.deleted == 1, "\(outcome.rows)")
        #expect(try row(world, new, "first_name, last_name, email, is_deleted::text, phone") == ["Ada", "Lovelace", "ada@example.com", "false", nil])
        let stamp = Timestamps.datetime(millis: t)
        #expect(try row(world, updated, "title, phone, to_char(system_modstamp AT TIME ZONE 'UTC', \(Self.iso))") == ["Countess", nil, stamp])
        #expect(try row(world, deleted, "is_deleted::text, (deleted_at IS NOT NULL)::text") == ["true", "true"])
        #expect(try storedReplay(world) == "ab07")
        let audit = try world.connection.execute(
            "SELECT record_key, operation FROM sfpg.changes WHERE job_name = 'contacts' AND run_id IS NULL").rows
        #expect(Set(audit) == [[new, "insert"], [updated, "update"], [deleted, "delete"]], "\(audit)")
        // Undelete carries no image: the record is re-read (Salesforce undeleted it meanwhile).
        world.emulator.org.softDelete("Contact", id: deleted)
        world.emulator.org.undelete("Contact", id: deleted)
        let revived = try stream.apply([Self.event(.undelete, [deleted], at: Self.now)], lastReplayId: [0xAB, 8])
        #expect(revived.reread == 1)
        #expect(try row(world, deleted, "is_deleted::text, (deleted_at IS NULL)::text") == ["false", "true"])
        // The updated row differs from the org on purpose (the emulator did not make that change).
        let differences = try world.differences(job, tolerating: [new]).filter { !$0.hasPrefix(updated) }
        #expect(differences.isEmpty, "\(differences)")
    }

    static let iso = #"'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'"#

    @Test("stream: is a job file key: true or false, default false, anything else names the key")
    func streamKey() throws {
        let base = "object: Contact\ntable: public.t\nfields:\n  Id: salesforce_id\n  SystemModstamp: system_modstamp\ndeletes: ignore\n"
        #expect(try JobDefinition.parse(yaml: base, name: "t", file: "t.yaml").stream == false)
        #expect(try JobDefinition.parse(yaml: base + "stream: true\n", name: "t", file: "t.yaml").stream)
        #expect {
            try JobDefinition.parse(yaml: base + "stream: soon\n", name: "t", file: "t.yaml")
        } throws: { "\($0)".contains("stream") && "\($0)".contains("soon") }
    }

    @Test("compound fields land in the job's columns; nulled fields become NULL; dates and datetimes from epoch numbers")
    func compoundAndNulledFields() async throws {
        let world = try await E2EFixture { $0.contactCount = 10 }
        try world.connection.execute(
            """
            CREATE TABLE public.stream_people (salesforce_id varchar(18) PRIMARY KEY, first_name text, last_name text,
                mailing_city text, mailing_postal_code text, birthdate date, last_modified_date timestamptz, languages text[],
                system_modstamp timestamptz(3), is_deleted boolean, deleted_at timestamptz, synced_at timestamptz)
            """)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try """
            object: Contact
            table: public.stream_people
            stream: true
            audit: true
            fields:
              Id: salesforce_id
              FirstName: first_name
              LastName: last_name
              MailingCity: mailing_city
              MailingPostalCode: mailing_postal_code
              Birthdate: birthdate
              LastModifiedDate: last_modified_date
              Languages__c: languages
              SystemModstamp: system_modstamp
              IsDeleted: is_deleted
            """.write(toFile: directory + "/people.yaml", atomically: true, encoding: .utf8)
        let job = try JobDefinition.load(file: directory + "/people.yaml")
        #expect(job.stream)
        let stream = try applier(world, job)
        _ = try stream.apply([], lastReplayId: [1])
        let id = world.emulator.org.ids("Contact", includeDeleted: false)[0]
        let t = Self.now + 1000
        let address: AvroValue = .record([
            AvroEntry(name: "Street", value: .string("1 Main St")), AvroEntry(name: "City", value: .string("Lyon")),
            AvroEntry(name: "PostalCode", value: .string("69001")),
        ])
        try stream.apply(
            [Self.event(.update, [id], at: t, changed: ["Name.FirstName", "MailingAddress.City", "MailingAddress.PostalCode",
                                                       "Birthdate", "LastModifiedDate", "Languages__c"], nulled: ["Name.LastName"],
                        ["Name": Self.name("Zoé", nil), "MailingAddress": address, "Birthdate": .int(3652),
                         "LastModifiedDate": .int(1_700_000_000_123), "Languages__c": .string("English;French")])],
            lastReplayId: [2])
        let row = try world.connection.execute(
            """
            SELECT first_name, last_name, mailing_city, mailing_postal_code, birthdate::text,
                to_char(last_modified_date AT TIME ZONE 'UTC', \(Self.iso)), languages::text
            FROM public.stream_people WHERE salesforce_id = $1
            """, [id]).rows.first
        #expect(row == ["Zoé", nil, "Lyon", "69001", "1980-01-01", "2023-11-14T22:13:20.123Z", "{English,French}"])
        let audited = try world.connection.execute(
            "SELECT changes -> 'languages' ->> 'new' AS languages FROM sfpg.changes WHERE run_id IS NULL AND record_key = $1", [id])
        #expect(audited.rows == [[#"["English", "French"]"#]])
        // A whole compound field changed and a CREATE with several record ids.
        let (a, b) = ("003000000000AAAAAA", "003000000000BBBBBB")
        try stream.apply(
            [Self.event(.create, [a, b], at: t, ["Name": Self.name("Twin", "Copy"), "MailingAddress": address])],
            lastReplayId: [3])
        let twins = try world.connection.execute(
            "SELECT mailing_city, last_name FROM public.stream_people WHERE salesforce_id IN ($1, $2)", [a, b]).rows
        #expect(twins == [["Lyon", "Copy"], ["Lyon", "Copy"]])
    }

    @Test("a field sent as a diff, an update of a row the table lacks and a create without every field are re-read")
    func diffAndUnknownRowsAreReread() async throws {
        let (world, job, stream) = try await started()
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        world.emulator.org.update("Contact", id: ids[2], fields: ["Title": "Long text, sent as a diff"])
        try world.connection.execute("DELETE FROM public.salesforce_contacts WHERE salesforce_id = $1", [ids[3]])
        world.emulator.org.update("Contact", id: ids[3], fields: ["Department": "Unknown before"])
        // A created record whose event lacks a mapped field (as for a formula field) is re-read, not blanked.
        let created = world.emulator.org.insert("Contact", fields: ["LastName": "Formula", "Department": "Computed"])
        var lacking = Self.event(.create, [created], at: Self.now - 60_000, ["Name": Self.name(nil, "Formula")])
        lacking.fields["Department"] = nil
        let t = Self.now - 60_000
        let outcome = try stream.apply(
            [
                Self.event(.update, [ids[2]], at: t, changed: ["Title"], diff: ["Title"], ["Title": .string("@@ -1 +1 @@ diff")]),
                Self.event(.update, [ids[3]], at: t, changed: ["Department"], ["Department": .string("Unknown before")]),
                lacking,
            ], lastReplayId: [0xAB, 2])
        #expect(outcome.reread == 3 && outcome.rows.inserted == 0)
        #expect(try row(world, created, "department") == ["Computed"])
        #expect(try row(world, ids[2], "title") == ["Long text, sent as a diff"])
        #expect(try row(world, ids[3], "department") == ["Unknown before"])
        #expect(try world.differences(job).isEmpty)
    }

    @Test("a filtered job re-reads created and updated records through its where: (events know nothing of it)")
    func filteredJobRereads() async throws {
        let world = try await E2EFixture { $0.contactCount = 20 }
        var job = try world.job("contacts")
        job.whereClause = "Department = 'Stream Sales'"
        try world.sync(job, .full)
        let stream = try applier(world, job)
        _ = try stream.apply([], lastReplayId: [1])
        let inside = world.emulator.org.insert("Contact", fields: ["LastName": "In", "Department": "Stream Sales"])
        let outside = world.emulator.org.insert("Contact", fields: ["LastName": "Out", "Department": "Elsewhere"])
        let t = Self.now - 60_000
        let outcome = try stream.apply(
            [inside, outside].map { Self.event(.create, [$0], at: t, ["Name": Self.name(nil, "In or out")]) }, lastReplayId: [2])
        #expect(outcome.reread == 2 && outcome.rows.inserted == 0)
        #expect(try row(world, inside, "last_name, department") == ["In", "Stream Sales"])
        #expect(try row(world, outside, "last_name").isEmpty)
    }

    @Test("an event older than the row never overwrites it; the same batch twice changes nothing")
    func orderingAndIdempotence() async throws {
        let (world, _, stream) = try await started()
        let id = world.emulator.org.ids("Contact", includeDeleted: false)[4]
        let t = Self.now
        let batch = [
            Self.event(.update, [id], at: t, changed: ["Title"], ["Title": .string("First")]),
            Self.event(.update, [id], at: t + 5, changed: ["Title", "Department"], ["Title": .string("Second"), "Department": .string("R&D")]),
            Self.event(.create, ["003000000000CCCAAA"], at: t, ["Name": Self.name("C", "D")]),
        ]
        let first = try stream.apply(batch, lastReplayId: [0xAB, 3])
        #expect(first.rows.inserted == 1 && first.rows.updated == 2)
        #expect(try row(world, id, "title, department") == ["Second", "R&D"])
        let before = world.fingerprint()["public.salesforce_contacts"]
        let again = try stream.apply(batch, lastReplayId: [0xAB, 3])
        #expect(again.rows.inserted == 0 && again.rows.updated == 0, "\(again.rows)")
        #expect(world.fingerprint()["public.salesforce_contacts"] == before)
        let older = try stream.apply(
            [Self.event(.update, [id], at: t - 1, changed: ["Title"], ["Title": .string("Stale")])], lastReplayId: [0xAB, 4])
        #expect(older.rows.updated == 0)
        #expect(try row(world, id, "title") == ["Second"])
        #expect(try world.count("SELECT count(*) FROM sfpg.changes WHERE run_id IS NULL AND record_key = '\(id)'") == 2)
    }

    @Test("a statement failing mid-batch rolls back the rows and the replay id; the retry applies the batch once")
    func failureRollsBackRowsAndReplayId() async throws {
        let (world, _, stream) = try await started(audit: false)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        try world.connection.executeScript(
            """
            CREATE FUNCTION public.stream_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.title = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER stream_boom BEFORE UPDATE ON public.salesforce_contacts FOR EACH ROW EXECUTE FUNCTION public.stream_boom();
            """)
        let t = Self.now
        let batch = [
            Self.event(.create, ["003000000000FAILAA"], at: t, ["Name": Self.name("F", "G")]),
            Self.event(.update, [ids[5]], at: t, changed: ["Title"], ["Title": .string("boom")]),
        ]
        let replayBefore = try storedReplay(world)
        #expect(throws: (any Error).self) { try stream.apply(batch, lastReplayId: [0xAB, 9]) }
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE salesforce_id = '003000000000FAILAA'") == 0)
        #expect(try storedReplay(world) == replayBefore)
        try world.connection.execute("DROP TRIGGER stream_boom ON public.salesforce_contacts")
        let retried = try stream.apply(batch, lastReplayId: [0xAB, 9])
        #expect(retried.rows.inserted == 1 && retried.rows.updated == 1)
        #expect(try storedReplay(world) == "ab09")
    }

    @Test("a session killed mid-batch leaves nothing; a new applier resumes from the stored replay id and applies each event once")
    func killedSessionResumesExactlyOnce() async throws {
        let (world, job, stream) = try await started(audit: true)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        // The backend dies in the middle of the batch's transaction, after its insert, as a killed process would.
        try world.connection.executeScript(
            """
            CREATE FUNCTION public.stream_die() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.title = 'die' THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF;
            RETURN NEW; END $$;
            CREATE TRIGGER stream_die BEFORE UPDATE ON public.salesforce_contacts FOR EACH ROW EXECUTE FUNCTION public.stream_die();
            """)
        let t = Self.now
        let batch = [
            Self.event(.create, ["003000000000KILLAA"], at: t, ["Name": Self.name("K", "L")]),
            Self.event(.update, [ids[10]], at: t, changed: ["Title"], ["Title": .string("die")]),
        ]
        let start = try stream.replayStart()
        #expect(throws: (any Error).self) { try stream.apply(batch, lastReplayId: [0xAB, 40]) }
        #expect(try world.count("SELECT count(*) FROM public.salesforce_contacts WHERE salesforce_id = '003000000000KILLAA'") == 0)
        try world.connection.execute("DROP TRIGGER stream_die ON public.salesforce_contacts")
        let restarted = try applier(world, job)
        #expect(try restarted.replayStart() == start)
        // Redelivered from the stored position: the killed batch, then the next one.
        let next = [Self.event(.update, ["003000000000KILLAA"], at: t + 1, changed: ["Title"], ["Title": .string("after")])]
        _ = try restarted.apply(batch, lastReplayId: [0xAB, 40])
        _ = try restarted.apply(next, lastReplayId: [0xAB, 41])
        #expect(try restarted.replayStart() == .custom([0xAB, 41]))
        #expect(try row(world, "003000000000KILLAA", "title") == ["after"])
        #expect(try row(world, ids[10], "title") == ["die"])
        let audit = try world.connection.execute(
            "SELECT operation FROM sfpg.changes WHERE run_id IS NULL AND record_key = '003000000000KILLAA' ORDER BY id").rows
        #expect(audit == [["insert"], ["update"]])
    }

    @Test("gap events re-read the records they name, a GAP_DELETE of a purged record removes it")
    func gapsRereadRecords() async throws {
        let (world, job, stream) = try await started(deletes: .hard)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        world.emulator.org.update("Contact", id: ids[6], fields: ["Title": "Changed during a gap"])
        let created = world.emulator.org.insert("Contact", fields: ["LastName": "Gap", "FirstName": "Created"])
        world.emulator.org.hardDelete("Contact", id: ids[7])
        let t = Self.now
        let outcome = try stream.apply(
            [
                Self.event(.gapUpdate, [ids[6]], at: t), Self.event(.gapCreate, [created], at: t),
                Self.event(.gapDelete, [ids[7]], at: t),
            ], lastReplayId: [0xAB, 5])
        #expect(outcome.catchUp == nil && outcome.reread == 3)
        #expect(try world.differences(job).isEmpty)
    }

    @Test("overflow, a forgotten replay id and a changed job heal with an incremental run; the watermark stays the batch's")
    func overflowRunsAnIncrementalRun() async throws {
        let (world, job, stream) = try await started()
        let watermark = try world.connection.execute("SELECT watermark::text FROM sfpg.sync_state WHERE job_name = 'contacts'")[0, "watermark"]
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        world.emulator.org.update("Contact", id: ids[8], fields: ["Title": "Changed in an overflowing transaction"])
        // A stream batch far in the future never moves the watermark.
        try stream.apply([Self.event(.update, [ids[9]], at: Self.now + 86_400_000, changed: ["Title"], ["Title": .string("x")])], lastReplayId: [0xAB, 1])
        #expect(try world.connection.execute("SELECT watermark::text FROM sfpg.sync_state WHERE job_name = 'contacts'")[0, "watermark"] == watermark)
        let overflow = try stream.apply([Self.event(.gapOverflow, [], at: Self.now)], lastReplayId: [0xAB, 6])
        #expect(overflow.catchUp == .overflow)
        #expect(try row(world, ids[8], "title") == ["Changed in an overflowing transaction"])
        try stream.forgetReplayId()
        #expect(try stream.replayStart() == .latest)
        #expect(try stream.apply([], lastReplayId: [0xAB, 7]).catchUp == .noPosition)
        #expect(try stream.replayStart() == .custom([0xAB, 7]))
        var edited = job
        edited.fields.removeAll { $0.source == "Department" }
        let changed = try applier(world, edited)
        #expect(try changed.apply([], lastReplayId: [0xAB, 8]).catchUp == .jobChanged)
        var added = Self.event(.update, [ids[9]], at: Self.now, changed: ["Title"], ["Title": .string("y")])
        added.fields["NewField__c"] = .null
        #expect(try changed.apply([added], lastReplayId: [0xAB, 9]).catchUp == nil)  // first events seen: nothing known yet
        var more = added
        more.fields["Another__c"] = .null
        #expect(try changed.apply([more], lastReplayId: [0xAB, 10]).catchUp == .schemaChanged)
    }

    @Test("a batch of 1000 events is a handful of statements; throughput printed", arguments: [false, true])
    func thousandEvents(audit: Bool) async throws {
        let (world, _, stream) = try await started(contacts: 500, audit: audit)
        let ids = world.emulator.org.ids("Contact", includeDeleted: false)
        var seconds: [Double] = []
        #expect(ids.count >= 400)
        for round in 0..<5 {
            let t = Self.now + Int64(round)
            var events = (0..<500).map { index in
                Self.event(.create, [String(format: "0030000%06d%02dAAA", index, round)], at: t,
                           ["Name": Self.name("Bulk", "Row \(index)"), "Email": .string("b\(index)@example.com")])
            }
            events += ids.prefix(500).map { id in
                Self.event(.update, [id], at: t, changed: ["Title", "Department"], nulled: ["Phone"],
                           ["Title": .string("T\(round)"), "Department": .string("D\(round)")])
            }
            let clock = ContinuousClock.now
            let outcome = try stream.apply(events, lastReplayId: [0xAB, UInt8(round + 20)])
            seconds.append((ContinuousClock.now - clock).inSeconds)
            #expect(outcome.rows.inserted == 500 && outcome.rows.updated == min(ids.count, 500), "\(outcome.rows)")
            #expect(outcome.rows.statements <= 12, "\(outcome.rows.statements) statements")
        }
        let best = seconds.min() ?? 1
        print(
            "stream apply, audit \(audit ? "on" : "off"): 1000-event batches (500 creates + 500 updates) in "
                + "\(seconds.map { String(format: "%.3f", $0) }) s; best \(Int(1000 / best)) events/s")
    }
}
