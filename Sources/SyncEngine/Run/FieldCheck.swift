import Logging
import SalesforceClient

/// Checks a job's mapped fields against Salesforce's describe, so a deleted or misspelled field fails before a
/// Bulk job is submitted, naming the field and its line in the job file. Describes are cached per instance (per run).
public final class FieldCheck {
    let client: SalesforceClient
    /// Where a skipped field is reported: `on_missing_field: skip` must not drop a column's updates without a word.
    let logger: Logger
    private var cache: [String: SObjectDescription] = [:]

    public init(client: SalesforceClient, logger: Logger = Logger(label: "sfpg")) {
        self.client = client
        self.logger = logger
    }

    /// - Returns: the job to run: unchanged, or without its missing fields when it says `on_missing_field: skip`
    ///   (the key, watermark and IsDeleted can never be skipped).
    @discardableResult
    public func check(_ job: JobDefinition) throws -> JobDefinition {
        let root = try describe(job.object)
        var runnable = job
        let required = [job.key, job.watermark, JobDefinition.isDeletedField]
        for field in job.fields {
            let place = "\(job.file)\(field.line.map { ":\($0)" } ?? "")"
            let path = field.source.split(separator: ".").map(String.init)
            var description = root
            for part in path.dropLast() {
                guard let reference = description.fields.first(where: { $0.relationshipName?.caseInsensitiveEquals(part) ?? false }),
                    let target = reference.referenceTo.first
                else {
                    throw SyncError(
                        "\(place): '\(part)' in '\(field.source)' is not a relationship on \(description.name); use the relationship name (e.g. Account for AccountId)",
                        exitStatus: .configuration
                    )
                }
                description = try describe(target)
            }
            guard let described = description.fields.first(where: { $0.name.caseInsensitiveEquals(path.last!) }) else {
                if job.onMissingField == .skip, !required.contains(where: { $0.caseInsensitiveEquals(field.source) }) {
                    runnable.fields.removeAll { $0.source == field.source }
                    logger.warning(
                        """
                        \(place): field '\(field.source)' does not exist on \(description.name) in Salesforce; skipped \
                        (on_missing_field: skip), so column '\(field.column)' keeps its values
                        """,
                        metadata: ["job.name": "\(job.name)", "sf.object": "\(job.object)", "sf.field": "\(field.source)"])
                    continue
                }
                throw SyncError(
                    "\(place): field '\(field.source)' does not exist on \(description.name) in Salesforce (deleted, renamed, or hidden from this user by field-level security); remove it from the job or restore access",
                    exitStatus: .configuration
                )
            }
            // The watermark is compared as an instant, in SOQL (`>= 2024-…Z`) and in the merge: a text or date field
            // would sort wrongly or lose the time of day, and an incremental run would miss changes.
            if field.source.caseInsensitiveEquals(job.watermark), described.type.lowercased() != "datetime" {
                throw SyncError(
                    "\(place): the watermark field '\(field.source)' is of type \(described.type) in Salesforce; it must be a datetime (SystemModstamp, LastModifiedDate or a custom datetime field)",
                    exitStatus: .configuration
                )
            }
        }
        return runnable
    }

    func describe(_ object: String) throws -> SObjectDescription {
        if let cached = cache[object] { return cached }
        let description = try client.describe(object)
        cache[object] = description
        return description
    }
}
