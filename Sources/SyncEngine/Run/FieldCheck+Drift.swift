import SalesforceClient

extension FieldCheck {
    /// Fields of the job's object in Salesforce that the job does not map and that a Bulk query could select
    /// (compound and base64 fields cannot be), in describe order: what `sfpg check` reports as new.
    public func unmappedFields(_ job: JobDefinition) throws -> [FieldDescription] {
        let mapped = Set(job.fields.map { $0.source.lowercased() })
        return try describe(job.object).fields.filter { field in
            !mapped.contains(field.name.lowercased()) && TypeMap.isBulkSelectable(field)
        }
    }

    /// The job's mapped fields that Salesforce computes (formulas): they change without moving SystemModstamp.
    public func calculatedFields(_ job: JobDefinition) throws -> [JobDefinition.FieldMapping] {
        let description = try describe(job.object)
        return job.fields.filter { description.field($0.source)?.calculated ?? false }
    }
}
