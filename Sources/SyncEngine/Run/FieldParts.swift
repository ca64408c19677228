import Foundation
import Logging
import PostgresLoader
import SalesforceClient

/// A wide object read in parts: Salesforce refuses a query that selects too much (`QUERY_TOO_COMPLICATED`, the
/// 100,000-character SOQL limit), so the job's fields are split across several Bulk jobs that each carry the key
/// and the modstamp; each part is staged and proven on its own, the records whose parts disagree (changed, created
/// or deleted between the parts' snapshots) are read again whole, and the parts are joined on the key into the
/// run's staging. The watermark rule needs nothing new: the new watermark is at most the earliest part job's
/// creation, so whatever changed during or after the parts is read again by the next incremental run.
extension SyncRunner {
    /// Salesforce's limit on a SOQL statement's length.
    static let maxSOQLLength = 100_000
    /// Rounds of re-reading disagreeing records before the run gives up (the records keep changing).
    static let maxPartRereads = 3
    /// Keys per `IN (…)` re-read: well inside the SOQL length limit with 18-character Ids.
    static let partRereadBatch = 200

    /// Salesforce refusing a query for what it selects: `QUERY_TOO_COMPLICATED`, or SOQL over the length limit.
    static func tooWide(_ error: any Error) -> Bool {
        guard let error = error as? SalesforceError else { return false }
        let text = (error.serverMessage ?? error.message).lowercased()
        return error.errorCode?.uppercased() == "QUERY_TOO_COMPLICATED"
            || (text.contains("soql statements cannot be longer than") || text.contains("query is too long"))
    }

    /// The job's fields in parts of at most `size` fields after the key and modstamp, which lead every part.
    static func fieldParts(_ job: JobDefinition, size: Int) -> [[String]] {
        let head = [job.loadMapping.key.source, job.loadMapping.modstamp.source]
        let rest = job.loadMapping.sourceFields.filter { field in !head.contains { $0.lowercased() == field.lowercased() } }
        return stride(from: 0, to: max(1, rest.count), by: max(1, size)).map {
            head + rest[$0..<min($0 + max(1, size), rest.count)]
        }
    }

    /// The parts a run in parts begins with: `fields_per_query` fields each, else halves.
    static func firstParts(_ job: JobDefinition) -> [[String]] {
        fieldParts(job, size: job.fieldsPerQuery ?? max(1, (job.loadMapping.sourceFields.count - 1) / 2))
    }

    /// A part cut in two, each half still led by the key and modstamp.
    static func halves(_ part: [String]) -> [[String]] {
        let (head, rest) = (Array(part.prefix(2)), Array(part.dropFirst(2)))
        return [head + rest.prefix(rest.count / 2), head + rest.dropFirst(rest.count / 2)]
    }

    /// How many parts ``createParts(_:job:state:)`` creates before Salesforce has its say (`sfpg plan`): none for a
    /// query that is neither split by `fields_per_query` nor too long for SOQL; parts still too long are halved.
    static func plannedParts(_ job: JobDefinition, plan: SyncPlan) -> Int {
        guard job.fieldsPerQuery != nil || plan.soql.utf8.count > maxSOQLLength else { return 0 }
        var (pending, count) = (firstParts(job), 0)
        while let part = pending.popLast() {
            guard part.count > 3, plan.soql(range: nil, fields: part).utf8.count > maxSOQLLength else {
                count += 1
                continue
            }
            pending += halves(part)
        }
        return count
    }

    /// Creates one Bulk job per part, in order: `fields_per_query` fields each, else halves. A part still too long
    /// for SOQL, or that Salesforce refuses as too wide, is halved again in its place. Jobs an interrupted run left
    /// are abandoned: a run in parts never reuses one.
    func createParts(_ jobs: BulkJobs, job: JobDefinition, state: JobState) throws {
        for id in (state.inFlightBulkJobId ?? "").split(separator: ",") { jobs.abandon(String(id)) }
        jobs.signature += " -- in parts"
        var pending = Self.firstParts(job)
        while !pending.isEmpty {
            let part = pending.removeFirst()
            do {
                if jobs.plan.soql(range: nil, fields: part).utf8.count > Self.maxSOQLLength {
                    throw SalesforceError(code: .invalidQuery, message: "SOQL statements cannot be longer than 100000 characters")
                }
                try jobs.create(fields: part)
            } catch where part.count > 3 && Self.tooWide(error) {
                pending.insert(contentsOf: Self.halves(part), at: 0)
            }
        }
        jobs.logger.notice("reading the object in parts", metadata: ["sync.parts": "\(jobs.ids.count)"])
    }

    /// Downloads each part into its own table and proves it (Salesforce's count = its pages = its staged rows),
    /// re-reads the records whose parts disagree, and joins the parts into staging. The run's evidence is then the
    /// joined rows: every part was proven before, and the commit proves the join staged each of them once.
    func readParts(
        _ parts: [[String]], jobs: BulkJobs, into run: LoadRun, consumer: PageLoader, job: JobDefinition,
        options: SyncOptions, evidence: inout Reconciliation
    ) throws -> DownloadSummary {
        var download = DownloadSummary(pages: 0, records: 0, bytes: 0)
        for (index, done) in jobs.completed.enumerated() {
            try run.beginPart(index + 1, fields: parts[index])
            let before = run.stagedRows
            let part = try downloadResults(
                done.id, expectedRecords: done.numberRecordsProcessed, job: job, options: options, into: consumer,
                logger: jobs.logger)
            try Reconciliation(expected: done.numberRecordsProcessed, downloaded: part.records, pages: part.pages)
                .prove(stagedRows: run.stagedRows - before, jobName: job.name, what: "part \(index + 1) of \(parts.count)")
            download.add(part)
        }
        try rereadDisagreeing(parts, run: run, consumer: consumer, plan: jobs.plan, job: job, logger: jobs.logger)
        let joined = try run.joinParts(parts)
        evidence = Reconciliation(expected: joined, downloaded: joined, pages: download.pages)
        return download
    }

    /// Reads the records whose parts disagree again, all parts in a row per batch of keys (REST `queryAll … WHERE
    /// key IN (…)`, into the same part tables), until every key is in every part once with one modstamp; a record
    /// gone by then (deleted, or out of the job's filter) is in no part and is not staged. Refuses the run when
    /// records still disagree after ``maxPartRereads`` rounds.
    func rereadDisagreeing(
        _ parts: [[String]], run: LoadRun, consumer: PageLoader, plan: SyncPlan, job: JobDefinition, logger: Logger
    ) throws {
        let keyField = job.loadMapping.key.source
        for round in 1...Self.maxPartRereads {
            let keys = try run.partMismatches(parts: parts.count)
            guard !keys.isEmpty else { return }
            logger.notice(
                "records changed between the parts' snapshots: reading them again whole",
                metadata: ["sync.records": "\(keys.count)", "sync.round": "\(round)"])
            try run.forgetInParts(keys, parts: parts.count)
            for condition in Self.keyLists(keys, field: keyField, size: Self.partRereadBatch) {
                for (index, fields) in parts.enumerated() {
                    try run.beginPart(index + 1, fields: fields)
                    _ = try client.queryCSV(
                        plan.soql(range: condition, fields: fields), operation: plan.operation, fields: fields, into: consumer)
                }
            }
        }
        let left = try run.partMismatches(parts: parts.count)
        guard left.isEmpty else {
            throw RunRefused(
                .incomplete,
                "job '\(job.name)': \(left.count) records kept changing while their parts were read "
                    + "(\(Self.maxPartRereads) rounds); nothing was committed. Run again")
        }
    }

    /// `field IN ('…', …)` conditions of at most `size` keys each (a REST query's URI stays short), the keys as
    /// SOQL string literals (quotes and backslashes escaped): verify's extras check and repair, and the re-read of
    /// records whose parts disagree.
    static func keyLists(_ keys: [String], field: String, size: Int = 200) -> [String] {
        stride(from: 0, to: keys.count, by: size).map { from in
            let quoted = keys[from..<min(from + size, keys.count)].map {
                "'" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
            }
            return "\(field) IN (\(quoted.joined(separator: ", ")))"
        }
    }
}

extension BulkJobs {
    /// Each live job's select list when the run reads a wide object in parts; nil otherwise.
    var parts: [[String]]? {
        live.first?.fields == nil ? nil : live.map { $0.fields ?? [] }
    }
}
