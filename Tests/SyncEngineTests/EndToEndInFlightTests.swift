import Foundation
import Synchronization
import SalesforceEmulator
import SyncEngine
import Testing

@Suite("End to end: changes made while a run is in progress")
struct EndToEndInFlightTests {
    @Test("a record modified after the run's Bulk job was created is picked up by the next run")
    func changeDuringRunIsPickedUpNextTime() async throws {
        let world = try await E2EFixture { $0.contactCount = 400 }
        let job = try world.job("contacts")
        let runner = try world.runner()
        try world.sync(job, .full, runner: runner)

        let target = try #require(world.emulator.org.ids("Contact", includeDeleted: false).dropFirst(17).first)
        let creationsBefore = world.jobCreations.count
        world.emulator.faults.slowInProgress(polls: 4)
        let emulator = world.emulator
        let mutated = MutationRecord()
        // Mutates the org once the job's creation has been answered: its snapshot is taken by then.
        let mutator = Thread {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline {
                let creations = emulator.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/jobs/query") }
                if creations.count > creationsBefore, creations.last?.status != nil {
                    emulator.org.update("Contact", id: target, fields: ["LastName": "Changed-In-Flight"])
                    mutated.insertedId = emulator.org.insert("Contact", fields: ["LastName": "Born-In-Flight"])
                    return
                }
                usleep(2_000)
            }
        }
        mutator.start()
        let during = try world.sync(job, .incremental, runner: runner)
        #expect(during.status == .success)
        let insertedId = try #require(mutated.insertedId, "the mutator never saw the job creation")

        // The run read its snapshot before the change, so the change is not there yet…
        let lastNameIndex = try #require(job.fields.firstIndex { $0.source == "LastName" })
        let afterFirst = try world.table(job)
        #expect(afterFirst[target]?[lastNameIndex] != "Changed-In-Flight")
        #expect(afterFirst[insertedId] == nil)

        // …and the next run, starting from the watermark the first one committed, picks it up.
        let next = try world.sync(job, nil, runner: runner)
        #expect(next.plan?.mode == .incremental)
        let afterSecond = try world.table(job)
        #expect(afterSecond[target]?[lastNameIndex] == "Changed-In-Flight")
        #expect(afterSecond[insertedId]?[lastNameIndex] == "Born-In-Flight")
        let differences = try world.differences(job)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }
}

/// Written by the mutator thread, read by the test.
final class MutationRecord: Sendable {
    private let id = Mutex<String?>(nil)
    var insertedId: String? {
        get { id.withLock { $0 } }
        set { id.withLock { $0 = newValue } }
    }
}
