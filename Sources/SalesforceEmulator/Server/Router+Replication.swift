import CivilTime

extension Router {
    static let minuteMillis: Int64 = 60_000
    static let dayMillis: Int64 = 86_400_000

    /// `GET /sobjects/{Object}/deleted/?start=…&end=…` (getDeleted, the last 15 days) and `…/updated/…` (getUpdated,
    /// the last 30 days). Both work in whole minutes: the seconds of `start` and `end` are dropped, a record counts
    /// when `start <= time < end`, and `latestDateCovered` is the end of the last whole minute both the window and
    /// the clock have passed.
    func replication(_ object: String, deleted: Bool, request: EmulatorRequest) -> EmulatorResponse {
        guard isReplicateable(object) else {
            return .error(400, "INVALID_TYPE", "sObject type '\(object)' is not replicateable: it does not support \(deleted ? "getDeleted" : "getUpdated")")
        }
        guard let start = request.query["start"].flatMap(Timestamps.parseDatetime).map(Self.wholeMinute),
            let end = request.query["end"].flatMap(Timestamps.parseDatetime).map(Self.wholeMinute)
        else {
            return .error(400, "INVALID_REPLICATION_DATE", "start and end must be valid dateTime values")
        }
        guard start < end else {
            return .error(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
        }
        let now = nowMillis()
        let days: Int64 = deleted ? 15 : 30
        let horizon = Self.wholeMinute(now - days * Self.dayMillis)
        guard start >= horizon else {
            return .error(400, "INVALID_REPLICATION_DATE", "startDate cannot be more than \(days) days ago")
        }
        guard let table = org.snapshot().table(object) else {
            return .error(404, "NOT_FOUND", "The requested resource does not exist")
        }
        // Purges move the earliest date available past the newest purged deletion (to the next whole minute); a
        // window that starts before it fails, as the SOAP guide documents: the client must replicate in full.
        let earliest = max(horizon, table.purgedThrough.map { Self.wholeMinute($0) + Self.minuteMillis } ?? horizon)
        if deleted, start < earliest {
            return .error(
                400, "INVALID_REPLICATION_DATE",
                "startDate is before the earliest date available, \(Timestamps.restDatetime(millis: earliest)): "
                    + "deleted records were purged since")
        }
        let found = deleted ? deletions(table, from: start, to: end) : updates(table, from: start, to: end)
        let limit = policy.withLock { $0.replicationIdLimit }
        guard found.count <= limit else {
            return .error(
                400, "EXCEEDED_ID_LIMIT",
                "More than \(limit) Ids were found in the window; choose start and end dates that are closer together")
        }
        let covered = Timestamps.restDatetime(millis: min(end, Self.wholeMinute(now)))
        guard deleted else {
            return .json(200, .object([("ids", .array(found.map { .string($0.id) })), ("latestDateCovered", .string(covered))]))
        }
        let records = found.map { record -> JSONValue in
            .object([("id", .string(record.id)), ("deletedDate", .string(Timestamps.restDatetime(millis: record.millis)))])
        }
        return .json(
            200,
            .object([
                ("deletedRecords", .array(records)),
                ("earliestDateAvailable", .string(Timestamps.restDatetime(millis: earliest))),
                ("latestDateCovered", .string(covered)),
            ]))
    }

    /// Whether describe calls the object `replicateable` (getDeleted and getUpdated work on it).
    func isReplicateable(_ object: String) -> Bool {
        !policy.withLock { $0.nonReplicateableObjects.contains(object.lowercased()) }
    }

    static func wholeMinute(_ millis: Int64) -> Int64 {
        millis >= 0 ? millis / minuteMillis * minuteMillis : -((-millis + minuteMillis - 1) / minuteMillis) * minuteMillis
    }

    /// Entries of the delete log in `[start, end)`, oldest first.
    private func deletions(_ table: ObjectTable, from start: Int64, to end: Int64) -> [(id: String, millis: Int64)] {
        table.deletions.filter { $0.value >= start && $0.value < end }
            .map { (id: $0.key, millis: $0.value) }
            .sorted { ($0.millis, $0.id) < ($1.millis, $1.id) }
    }

    /// Live records the integration user can see whose `SystemModstamp` is in `[start, end)`, oldest first.
    private func updates(_ table: ObjectTable, from start: Int64, to end: Int64) -> [(id: String, millis: Int64)] {
        // Generated records were last modified long before any window the clock allows; only mutated or inserted
        // ones can be in it.
        table.patches.compactMap { i, patch -> (id: String, millis: Int64)? in
            guard let stamp = patch.modstampMillis, stamp >= start, stamp < end, !patch.isDeleted,
                !table.hidden.contains(i), !table.hardDeleted.contains(i)
            else { return nil }
            return (SalesforceId.make(prefix: table.schema.keyPrefix, index: i), stamp)
        }.sorted { ($0.millis, $0.id) < ($1.millis, $1.id) }
    }
}
