/// All objects' tables at one instant. Query jobs materialize from a snapshot so later mutations do not change
/// their results (as on Salesforce, where results are fixed when the job runs).
struct OrgSnapshot: Sendable {
    var tables: [String: ObjectTable]
    let generator: RecordGenerator

    init(configuration: EmulatorConfiguration) {
        let counts = [
            "Contact": configuration.contactCount, "Account": configuration.resolvedAccountCount,
            "Opportunity": configuration.resolvedOpportunityCount, "User": max(1, configuration.userCount),
        ]
        generator = RecordGenerator(seed: configuration.seed, counts: counts)
        var tables: [String: ObjectTable] = [:]
        for (salt, schema) in ObjectSchema.all.enumerated() {
            tables[schema.name.lowercased()] = ObjectTable(
                schema: schema, salt: UInt64(salt + 1), baseCount: counts[schema.name] ?? 0)
        }
        self.tables = tables
    }

    func table(_ object: String) -> ObjectTable? { tables[object.lowercased()] }

    func schema(_ object: String) -> ObjectSchema? { tables[object.lowercased()]?.schema }

    /// Name (or any field) of the record an Id points at, for `Account.Name`-style columns.
    func lookup(id: String?, field: String) -> String? {
        guard let id, let parsed = SalesforceId.parse(id),
            let table = tables.values.first(where: { $0.schema.keyPrefix == parsed.prefix }),
            let i = table.index(of: id), let f = table.schema.fieldIndex(field), !table.removedFields.contains(f)
        else { return nil }
        return table.value(f, i, generator)
    }
}
