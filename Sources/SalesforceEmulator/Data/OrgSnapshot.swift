/// All objects' tables at one instant. Query jobs materialize from a snapshot so later mutations do not change
/// their results (as on Salesforce, where results are fixed when the job runs).
struct OrgSnapshot: Sendable {
    var tables: [String: ObjectTable]
    let generator: RecordGenerator
    /// The org's objects in describe order: the standard ones, then `Wide__c` when configured.
    let objectNames: [String]

    init(configuration: EmulatorConfiguration) {
        var counts = [
            "Contact": configuration.contactCount, "Account": configuration.contactCount / 10 + 1,
            "Opportunity": configuration.contactCount / 5, "User": max(1, configuration.userCount),
        ]
        var schemas = ObjectSchema.all
        if configuration.wideObjectFields > 0 {
            schemas.append(.wide(customFields: configuration.wideObjectFields))
            counts[ObjectSchema.wideName] = configuration.wideObjectRecords
        }
        generator = RecordGenerator(seed: configuration.seed, counts: counts)
        var tables: [String: ObjectTable] = [:]
        for (salt, schema) in schemas.enumerated() {
            tables[schema.name.lowercased()] = ObjectTable(
                schema: schema, salt: UInt64(salt + 1), baseCount: counts[schema.name] ?? 0)
        }
        self.tables = tables
        objectNames = schemas.map(\.name)
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
