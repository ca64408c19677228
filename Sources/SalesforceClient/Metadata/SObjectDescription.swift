/// The parts of `GET /sobjects/{object}/describe` that a loader needs.
public struct SObjectDescription: Sendable {
    /// API name of the object (e.g. `Contact`).
    public var name: String
    /// Fields in Salesforce's order.
    public var fields: [FieldDescription]

    /// Creates a description.
    public init(name: String, fields: [FieldDescription]) {
        self.name = name
        self.fields = fields
    }

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
    public var length: Int
    /// Total digits of `double`/`currency`/`percent`.
    public var precision: Int
    /// Digits after the decimal point.
    public var scale: Int
    /// Digits of `int`.
    public var digits: Int
    /// Whether the field may be null.
    public var nillable: Bool
    /// Whether it is a formula field.
    public var calculated: Bool
    /// Whether it is a custom (`__c`) field.
    public var custom: Bool
    /// Target objects of a reference field.
    public var referenceTo: [String]
    /// Relationship name of a reference field (e.g. `Account`).
    public var relationshipName: String?
    /// The compound field this one belongs to (e.g. `MailingAddress`).
    public var compoundFieldName: String?
    /// XSD type, e.g. `xsd:string`, `tns:ID`.
    public var soapType: String?

    /// Creates a field description.
    public init(
        name: String, type: String, length: Int = 0, precision: Int = 0, scale: Int = 0, digits: Int = 0,
        nillable: Bool = true, calculated: Bool = false, custom: Bool = false, referenceTo: [String] = [],
        relationshipName: String? = nil, compoundFieldName: String? = nil, soapType: String? = nil
    ) {
        self.name = name
        self.type = type
        self.length = length
        self.precision = precision
        self.scale = scale
        self.digits = digits
        self.nillable = nillable
        self.calculated = calculated
        self.custom = custom
        self.referenceTo = referenceTo
        self.relationshipName = relationshipName
        self.compoundFieldName = compoundFieldName
        self.soapType = soapType
    }

    init?(json: JSONObject) {
        guard let name = json.string("name") else { return nil }
        self.init(
            name: name, type: json.string("type") ?? "anyType", length: json.int("length") ?? 0,
            precision: json.int("precision") ?? 0, scale: json.int("scale") ?? 0, digits: json.int("digits") ?? 0,
            nillable: json.bool("nillable") ?? true, calculated: json.bool("calculated") ?? false,
            custom: json.bool("custom") ?? false, referenceTo: json.strings("referenceTo"),
            relationshipName: json.string("relationshipName"), compoundFieldName: json.string("compoundFieldName"),
            soapType: json.string("soapType"))
    }
}

/// One entry of `GET /limits`.
public struct OrgLimit: Sendable, Equatable {
    /// The org's allowance.
    public var max: Int
    /// What is left of it.
    public var remaining: Int

    /// Creates a limit value.
    public init(max: Int, remaining: Int) {
        self.max = max
        self.remaining = remaining
    }
}
