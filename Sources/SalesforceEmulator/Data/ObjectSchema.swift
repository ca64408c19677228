/// The describe-level shape of one emulated sObject.
struct ObjectSchema: Sendable {
    var name: String
    var label: String
    var labelPlural: String
    var keyPrefix: String
    var fields: [FieldDefinition]
    /// Lower-cased field name → index into `fields`.
    let indexByName: [String: Int]

    init(name: String, label: String, labelPlural: String, keyPrefix: String, fields: [FieldDefinition]) {
        (self.name, self.label, self.labelPlural) = (name, label, labelPlural)
        (self.keyPrefix, self.fields) = (keyPrefix, fields)
        indexByName = Dictionary(fields.enumerated().map { ($1.name.lowercased(), $0) }, uniquingKeysWith: { $1 })
    }

    func fieldIndex(_ name: String) -> Int? { indexByName[name.lowercased()] }

    /// Reference field whose relationshipName matches `relationship` (case-insensitive), e.g. `Account` → AccountId.
    func referenceField(relationship: String) -> Int? {
        fields.firstIndex { $0.relationshipName?.lowercased() == relationship.lowercased() }
    }

    static let all: [ObjectSchema] = [.contact, .account, .opportunity, .user]

    static func named(_ name: String) -> ObjectSchema? {
        all.first { $0.name.lowercased() == name.lowercased() }
    }
}
