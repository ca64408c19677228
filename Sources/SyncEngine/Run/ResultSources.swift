import Foundation
import Logging
import PostgresLoader
import SalesforceClient

extension SyncRunner {
    /// Objects the Bulk API cannot query (Salesforce's documentation and connectors' experience), read through REST
    /// from the start instead of after a refused job; any other object falls back when Salesforce refuses it.
    static let bulkUnsupportedObjects: Set<String> = [
        "acceptedeventrelation", "attachedcontentnote", "casestatus", "contractstatus", "declinedeventrelation",
        "fieldsecurityclassification", "knowledgearticle", "knowledgearticleversion", "knowledgearticleversionhistory",
        "knowledgearticleviewstat", "knowledgearticlevotestat", "orderstatus", "partnerrole", "recentlyviewed",
        "solutionstatus", "taskpriority", "taskstatus", "undecidedeventrelation",
    ]

    /// Salesforce refusing the Bulk API for the object itself: `INVALIDENTITY` "Entity 'X' is not supported by the
    /// Bulk API."
    static func refusesBulk(_ error: any Error) -> Bool {
        guard let error = error as? SalesforceError, error.errorCode?.uppercased() == "INVALIDENTITY" else { return false }
        return (error.serverMessage ?? error.message).lowercased().contains("not supported by the bulk api")
    }

    /// ``obtain(_:for:scope:state:job:)`` with the two ways around a query Salesforce will not run as it is: an
    /// object the Bulk API cannot read is read through REST `queryAll` (no Bulk job), and an object too wide for one
    /// query (or with `fields_per_query`) is read in parts (``createParts(_:job:state:)``). A shard takes neither
    /// way and a column pass only the first: their refusal fails the run as before.
    func obtainReading(
        _ jobs: BulkJobs, for plan: SyncPlan, scope: RunScope, state: JobState, job: JobDefinition
    ) throws -> SplitRanges? {
        let wholeObject = scope.shard == nil && !scope.isColumns
        if case .repair(_, _, true) = scope { jobs.readsThroughREST = true }
        if scope.shard == nil, jobs.readsThroughREST || Self.bulkUnsupportedObjects.contains(job.object.lowercased()) {
            jobs.readsThroughREST = true
            return nil
        }
        if wholeObject, job.fieldsPerQuery != nil || plan.soql.utf8.count > Self.maxSOQLLength {
            try createParts(jobs, job: job, state: state)
            return nil
        }
        do {
            return try obtain(jobs, for: plan, scope: scope, state: state, job: job)
        } catch where scope.shard == nil && jobs.ids.isEmpty && Self.refusesBulk(error) {
            jobs.logger.notice("the Bulk API cannot read the object: reading it through REST queryAll")
            jobs.readsThroughREST = true
            return nil
        } catch where wholeObject && jobs.ids.isEmpty && Self.tooWide(error) {
            jobs.logger.notice("the query is too wide for Salesforce: reading the fields in parts", metadata: ["error": "\(error)"])
            try createParts(jobs, job: job, state: state)
            return nil
        }
    }

    /// Downloads everything the pass read into `target` through `consumer` and fills in the evidence of its proof:
    /// the REST read of an object the Bulk API cannot read, the parts of a wide object, or every completed job.
    func readResults(
        _ jobs: BulkJobs, into target: any RunTarget, consumer: PageLoader, job: JobDefinition, scope: RunScope,
        options: SyncOptions, staged: [String: StagedProgress] = [:], evidence: inout Reconciliation
    ) throws -> DownloadSummary {
        if jobs.readsThroughREST { return try readThroughREST(jobs, job: job, scope: scope, into: consumer, evidence: &evidence) }
        if let parts = jobs.parts, let run = target as? LoadRun {
            return try readParts(parts, jobs: jobs, into: run, consumer: consumer, job: job, options: options, evidence: &evidence)
        }
        var download = DownloadSummary(pages: 0, records: 0, bytes: 0)
        for done in jobs.completed {
            (target as? LoadRun)?.stagePages(ofBulkJob: done.id)
            let before = staged[done.id] ?? StagedProgress()
            consumer.pageOffset = before.pages
            // Every page of this job is staged already (a resumed run).
            if before.pages > 0, before.records == done.numberRecordsProcessed { continue }
            // One job's pages are one batch: its record count says what they cost, with its listing and delete.
            try jobs.budget?.beforePages(
                calls: BulkJobCost.downloadCalls(
                    records: (done.numberRecordsProcessed ?? 0) - before.records, pageSize: job.pageSize,
                    connections: options.downloadConnections, client: client) + 1)
            let part = before.pages > 0
                ? try downloadRest(
                    done.id, after: before, expectedRecords: done.numberRecordsProcessed, job: job, options: options,
                    into: consumer)
                : try downloadResults(
                    done.id, expectedRecords: done.numberRecordsProcessed, job: job, options: options, into: consumer,
                    logger: jobs.logger)
            download.add(part)
            jobs.budget?.downloaded(bytes: part.bytes)
        }
        evidence.downloaded = download.records
        evidence.pages = download.pages
        return download
    }

    /// The pass's query through REST `queryAll`, batch by batch as CSV into the same COPY path, proven against
    /// `totalSize`. Its snapshot for the watermark rule is the first batch's `Date` (Salesforce's clock) less a
    /// second, as the header counts whole seconds; without one, the largest modstamp loaded.
    func readThroughREST(
        _ jobs: BulkJobs, job: JobDefinition, scope: RunScope, into consumer: PageLoader, evidence: inout Reconciliation
    ) throws -> DownloadSummary {
        var fields = job.loadMapping.sourceFields
        if case .columns(let pass) = scope {
            fields = [job.loadMapping.key.source, job.loadMapping.modstamp.source] + pass.fields.map(\.source)
        }
        jobs.logger.info("reading through REST", metadata: ["sf.operation": "\(jobs.plan.operation.rawValue)"])
        // The first batch is one call; what the rest take is known once it tells `totalSize`.
        try jobs.budget?.beforePages(calls: 1)
        let read = try client.queryCSV(
            jobs.plan.soql, operation: jobs.plan.operation, fields: fields, into: consumer,
            beforeRest: { try jobs.budget?.beforePages(calls: $0) })
        jobs.restSnapshot = read.serverDate.flatMap(Self.httpDate).map { formatTimestamp($0.addingTimeInterval(-1)) }
        evidence.expected = read.totalSize
        evidence.downloaded = read.download.records
        evidence.pages = read.download.pages
        return read.download
    }

    /// An HTTP `Date` (`Mon, 07 Dec 2026 00:19:36 GMT`).
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)
    }
}

extension DownloadSummary {
    mutating func add(_ part: DownloadSummary) {
        pages += part.pages
        records += part.records
        bytes += part.bytes
        peakPagesInFlight = max(peakPagesInFlight, part.peakPagesInFlight)
    }
}
