extension Router {
    /// Arms the page-kill fault: the next `count` results requests of a job that has already been served
    /// `afterPages` pages get their connection closed before any body byte, as when the client's process or network
    /// dies mid-run. The job and its locators stay valid, so a rerun can resume from the page it lost.
    func killConnection(afterPages: Int, count: Int) {
        pageKill.withLock { $0 = (max(0, afterPages), max(0, count)) }
    }

    /// Whether this results request of `job` is to be cut by the page-kill fault (and disarms one use of it).
    func takePageKill(job: String) -> Bool {
        let served = pagesServed.withLock { $0[job, default: 0] }
        return pageKill.withLock { kill in
            guard kill.remaining > 0, served >= kill.afterPages else { return false }
            kill.remaining -= 1
            return true
        }
    }

    /// `GET /services/data/vXX.X/limits/recordCount[?sObjects=A,B]`: record counts per object, as the storage
    /// statistics count them (every live record, whoever can see it; soft-deleted ones not).
    func recordCount(_ request: EmulatorRequest) -> EmulatorResponse {
        let snapshot = org.snapshot()
        let names = request.query["sObjects"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            ?? snapshot.objectNames
        let entries = names.compactMap { name -> JSONValue? in
            guard let table = snapshot.table(name) else { return nil }
            var count = table.rowCount - table.hardDeleted.count
            for (i, patch) in table.patches where patch.isDeleted && !table.hardDeleted.contains(i) { count -= 1 }
            return .object([("count", .int(count)), ("name", .string(table.schema.name))])
        }
        return .json(200, .object([("sObjects", .array(entries))]))
    }
}
