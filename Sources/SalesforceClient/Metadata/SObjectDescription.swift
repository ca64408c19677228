/// The parts of `GET /sobjects/{object}/describe` that a loader needs.
public struct SObjectDescription: Sendable {
    /// API name of the object (e.g. `Contact`).
    public var name: String
    /// Fields in Salesforce's order.
    public var fields: [FieldDescription]
    /// Whether getDeleted and getUpdated work on the object (`replicateable`); nil when describe did not say.
    public var replicateable: Bool?

    /// The field with this API name (case-insensitive, as SOQL is).
    public func field(_ name: String) -> FieldDescription? {
        let lower = name.lowercased()
        return fields.first { $0.name.lowercased() == lower }
    }
}

/// One field of an ``SObjectDescription``.
public struct FieldDescription: Sendable {
    /// Canonical API name, as in the CSV header.
    public var name: String
    /// Lower-case REST type: `id`, `string`, `boolean`, `datetime`, `double`, `reference`, `address`, …
    public var type: String
    /// Maximum characters of text types, 0 otherwise.
    public var length = 0
    /// Total digits of `double`/`currency`/`percent`.
    public var precision = 0
    /// Digits after the decimal point.
    public var scale = 0
    /// Digits of `int`.
    public var digits = 0
    /// Whether the field may be null.
    public var nillable = true
    /// Whether it is a formula field.
    public var calculated = false
    /// Whether it is a custom (`__c`) field.
    public var custom = false
    /// Target objects of a reference field.
    public var referenceTo: [String] = []
    /// Relationship name of a reference field (e.g. `Account`).
    public var relationshipName: String?
    /// The compound field this one belongs to (e.g. `MailingAddress`).
    public var compoundFieldName: String?
    /// XSD type, e.g. `xsd:string`, `tns:ID`.
    public var soapType: String?
}

extension SObjectDescription {
    /// Reads a describe body; `object` names it when the body has no `name`. Fields without a name are skipped.
    init(describeBody body: [UInt8], object: String) throws {
        let answer = try LenientJSON.decode(DescribeResponse.self, from: body, what: "describe response")
        self.init(name: answer.name ?? object, fields: answer.fields, replicateable: answer.replicateable)
    }

    /// `GET /sobjects/{object}/describe`: the top level has some 30 keys and each field 57; only these are read.
    private struct DescribeResponse: Decodable {
        var name: String?
        var fields: [FieldDescription]
        var replicateable: Bool?

        private enum CodingKeys: String, CodingKey { case name, fields, replicateable }

        init(from decoder: any Decoder) throws {
            let json = try decoder.container(keyedBy: CodingKeys.self)
            name = json.lenientString(.name)
            replicateable = json.lenientBool(.replicateable)
            fields = json.lenientList(FieldDescription.self, .fields)
        }
    }
}

extension FieldDescription: Decodable {
    private enum CodingKeys: String, CodingKey {
        case name, type, length, precision, scale, digits, nillable, calculated, custom, referenceTo
        case relationshipName, compoundFieldName, soapType
    }

    /// Reads one `fields[]` entry of a describe; only `name` is required, the rest default as for a plain field.
    public init(from decoder: any Decoder) throws {
        let json = try decoder.container(keyedBy: CodingKeys.self)
        guard let name = json.lenientString(.name) else {
            throw DecodingError.keyNotFound(
                CodingKeys.name, .init(codingPath: decoder.codingPath, debugDescription: "a field without a name"))
        }
        self.init(
            name: name, type: json.lenientString(.type) ?? "anyType", length: json.lenientInt(.length) ?? 0,
            precision: json.lenientInt(.precision) ?? 0, scale: json.lenientInt(.scale) ?? 0,
            digits: json.lenientInt(.digits) ?? 0, nillable: json.lenientBool(.nillable) ?? true,
            calculated: json.lenientBool(.calculated) ?? false, custom: json.lenientBool(.custom) ?? false,
            referenceTo: json.lenientList(String.self, .referenceTo),
            relationshipName: json.lenientString(.relationshipName),
            compoundFieldName: json.lenientString(.compoundFieldName), soapType: json.lenientString(.soapType))
    }
}
