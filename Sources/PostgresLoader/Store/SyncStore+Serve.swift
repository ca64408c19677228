/// The locks of `sfpg serve`: the one that makes a single replica active, and a look at a job's lock.
extension SyncStore {
    /// Its own key, in the bigint key space (the job and table locks use the two-int4 space, so no job name can
    /// collide with it; PostgreSQL keeps the two spaces apart).
    static let serveLockKey = "hashtextextended('sfpg.serve', 0)"

    /// Takes the active-replica lock of `sfpg serve` if no other session holds it. Session-level: it is held until
    /// this connection closes, so a replica that dies (its TCP session ends) hands over to a waiting one.
    public func tryServeLock() throws -> Bool {
        try connection.execute("SELECT pg_try_advisory_lock(\(Self.serveLockKey)) AS locked")[0, "locked"] == "t"
    }

    /// Whether some session holds the job's lock or its table's right now: a look, not a reservation (the run
    /// itself takes the locks and fails fast if it lost a race since).
    public func isJobLocked(_ jobName: String, table: TableName) throws -> Bool {
        let result = try connection.execute(
            """
            SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND
                ((classid, objid) = (hashtext('sfpg')::oid, hashtext($1)::oid)
                 OR (classid, objid) = (hashtext('sfpg.table')::oid, hashtext($2)::oid))
                AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS held
            """, [jobName, table.quoted])
        return result[0, "held"] == "t"
    }
}
