import PostgresLoader

extension JobDefinition {
    /// Refuses a set of jobs that would step on each other in one database: two files giving one job name, or two
    /// jobs loading one table without both declaring that they share it.
    ///
    /// A job name keys the watermark, the run log and the advisory lock, so `x.yaml` and `x.yml` would be two jobs
    /// moving one watermark under one lock. Two jobs on one table are worse: each full sync treats the other job's
    /// rows as missing from Salesforce and marks them deleted. Jobs may share a table only when each of them says
    /// so: a `where:` filter (its own slice of the records) and `sweep: false` (it does not own the whole table).
    ///
    /// Called by `loadAll(directory:)` on every file of the directory, not only the jobs a command names: the files
    /// of one directory are one deployment against one database, and a run of one job is no safer while another
    /// file claims its name or table.
    /// - Parameter directory: the jobs directory, for the message.
    /// - Throws: `JobDefinitionError` naming both jobs and both files; the first problem in file order.
    public static func checkIdentity(_ jobs: [JobDefinition], directory: String) throws {
        let scope = "every job file in \(directory) is checked, whichever jobs the command names, since they all "
            + "share one database"
        var byName: [String: JobDefinition] = [:]
        for job in jobs {
            if let first = byName[job.name] {
                let files = jobs.filter { $0.name == job.name }.map(\.file)
                throw JobDefinitionError(
                    file: first.file, key: "",
                    problem: "job name '\(job.name)' is given by \(files.count) files: \(files.joined(separator: " and ")). "
                        + "The name keys the job's watermark, run log and lock, so it must be unique: remove or rename "
                        + "all but one (\(scope))")
            }
            byName[job.name] = job
        }
        var byTable: [TableIdentity: JobDefinition] = [:]
        for job in jobs {
            let identity = TableIdentity(job.table)
            guard let first = byTable[identity] else {
                byTable[identity] = job
                continue
            }
            let undeclared = [first, job].filter { !$0.declaresSharedTable }
            if !undeclared.isEmpty {
                let missing = undeclared.map { "'\($0.name)' has \($0.sharedTableGaps.joined(separator: " and "))" }
                throw JobDefinitionError(
                    file: job.file, key: "table",
                    problem: "jobs '\(first.name)' (\(first.file)) and '\(job.name)' (\(job.file)) both load table "
                        + "\(identity): each full sync would mark the other job's rows deleted. Give each job its own "
                        + "table, or, if they really share it, give both a where: filter that splits the records and "
                        + "sweep: false (\(missing.joined(separator: "; "))). (\(scope))")
            }
        }
    }

    /// Whether this job says it shares its table with other jobs: it reads a slice of the object and never sweeps.
    var declaresSharedTable: Bool { whereClause != nil && !sweep }

    /// What is missing for `declaresSharedTable`, for the message.
    private var sharedTableGaps: [String] {
        (whereClause == nil ? ["no where:"] : []) + (sweep ? ["no sweep: false"] : [])
    }
}

/// A target table as PostgreSQL will resolve it from sfpg's SQL, for telling whether two jobs load the same table.
///
/// sfpg quotes every identifier it writes (`TableName.quoted`), so a name's spelling is exact: `Contacts` in a job
/// file is `"Contacts"`, a different table from `contacts`, and no case folding applies. An unqualified name is
/// resolved through the `search_path`, which sfpg does not set; it counts as `public`, the default's first
/// existing schema. (A `search_path` that puts another schema first could make `contacts` and `other.contacts`
/// one table; sfpg cannot see that from the files, and qualified names avoid it.)
struct TableIdentity: Hashable, CustomStringConvertible {
    var schema: String
    var name: String

    init(_ table: TableName) {
        schema = table.schema ?? "public"
        name = table.name
    }

    var description: String { TableName(schema: schema, name: name).quoted }
}
