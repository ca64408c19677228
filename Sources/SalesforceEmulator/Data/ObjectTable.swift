import CivilTime

/// Mutations of one record on top of its generated base (or of a record inserted after start).
struct RecordPatch: Sendable {
    /// Field index → value override (`nil` value = set to null).
    var values: [Int: String?] = [:]
    var isDeleted = false
    var createdMillis: Int64?
    var modstampMillis: Int64?
    var lastModifiedMillis: Int64?
    /// Inserted through `insert`: unspecified fields are null instead of generated.
    var blankBase = false
}

/// One object's records: a generated base range plus an overlay of patches. A value type, so copying it under the
/// org's lock is a consistent snapshot for a query job (copy-on-write keeps that cheap).
struct ObjectTable: Sendable {
    let schema: ObjectSchema
    /// Distinguishes objects in the generator's hash.
    let salt: UInt64
    let baseCount: Int
    var insertedCount = 0
    var patches: [Int: RecordPatch] = [:]
    var hardDeleted: Set<Int> = []
    /// Records the integration user cannot see (sharing or permission change): absent from `query` and `queryAll`,
    /// yet neither deleted nor modified.
    var hidden: Set<Int> = []
    var removedFields: Set<Int> = []
    /// Deleted record Ids with their deletion time, for `sobjects/{Object}/deleted`.
    var deletions: [String: Int64] = [:]
    /// Deletion time of the newest entry purged from the delete log, if any: getDeleted's `earliestDateAvailable`.
    var purgedThrough: Int64?
    private let firstName: Int?, lastName: Int?, title: Int?, amount: Int?, probability: Int?

    init(schema: ObjectSchema, salt: UInt64, baseCount: Int) {
        self.schema = schema
        self.salt = salt
        self.baseCount = baseCount
        firstName = schema.fieldIndex("FirstName")
        lastName = schema.fieldIndex("LastName")
        title = schema.fieldIndex("Title")
        amount = schema.fieldIndex("Amount")
        probability = schema.fieldIndex("Probability")
    }

    var rowCount: Int { baseCount + insertedCount }

    /// Index of a live-or-soft-deleted record with this Id.
    func index(of id: String) -> Int? {
        guard let parsed = SalesforceId.parse(id), parsed.prefix == schema.keyPrefix, parsed.index < rowCount,
            !hardDeleted.contains(parsed.index)
        else { return nil }
        return parsed.index
    }

    /// `SystemModstamp` of record `i` in epoch ms without writing and parsing its text (window filters over
    /// millions of records): its patch's, else the generated base's. Nil when `f` is not the modstamp field.
    func modstampMillis(field f: Int, _ i: Int, _ patch: RecordPatch?) -> Int64? {
        guard case .systemModstamp = schema.fields[f].recipe, patch?.values[f] == nil else { return nil }
        return patch?.modstampMillis ?? RecordGenerator.systemModstamp(i)
    }

    func isDeleted(_ i: Int) -> Bool { patches.isEmpty ? false : patches[i]?.isDeleted ?? false }

    /// The value of field `f` of record `i` in CSV text form.
    func value(_ f: Int, _ i: Int, _ generator: RecordGenerator) -> String? {
        value(f, i, patches.isEmpty ? nil : patches[i], generator)
    }

    func value(_ f: Int, _ i: Int, _ patch: RecordPatch?, _ generator: RecordGenerator) -> String? {
        let recipe = schema.fields[f].recipe
        if let patch {
            if let v = patch.values[f] { return v }
            switch recipe {
            case .isDeleted: return patch.isDeleted ? "true" : "false"
            case .systemModstamp: if let m = patch.modstampMillis { return Timestamps.datetime(millis: m) }
            case .lastModifiedDate: if let m = patch.lastModifiedMillis { return Timestamps.datetime(millis: m) }
            case .createdDate: if let m = patch.createdMillis { return Timestamps.datetime(millis: m) }
            default: break
            }
            if patch.blankBase {
                switch recipe {
                case .id: return SalesforceId.make(prefix: schema.keyPrefix, index: i)
                case .user: return SalesforceId.make(prefix: "005", index: 0)
                case .bool: return "false"
                case .fullName, .formulaLabel, .formulaExpected: break
                default: return nil
                }
            }
        }
        switch recipe {
        case .fullName:
            let last = lastName.flatMap { value($0, i, patch, generator) } ?? ""
            guard let first = firstName.flatMap({ value($0, i, patch, generator) }) else { return last }
            return first + " " + last
        case .formulaLabel:
            let last = lastName.flatMap { value($0, i, patch, generator) } ?? ""
            let first = firstName.flatMap { value($0, i, patch, generator) } ?? ""
            let label = last + ", " + first
            guard let t = title.flatMap({ value($0, i, patch, generator) }) else { return label }
            return label + " (" + t + ")"
        case .formulaExpected:
            guard let a = amount.flatMap({ value($0, i, patch, generator) }).flatMap(Double.init),
                let p = probability.flatMap({ value($0, i, patch, generator) }).flatMap(Double.init)
            else { return nil }
            // Amount × Probability%, rounded to cents, written the Java way like every currency value.
            return JavaDouble.format((a * p).rounded() / 100)
        default:
            return generator.value(schema, salt: salt, field: f, index: i)
        }
    }
}
