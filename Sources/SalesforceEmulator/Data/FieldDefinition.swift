/// Salesforce field types, spelled as REST describe spells them.
enum FieldType: String, Sendable {
    case id, reference, string, textarea, email, phone, url, picklist, multipicklist, boolean
    case int, long, double, currency, percent, date, datetime, time, address

    var soapType: String {
        switch self {
        case .id, .reference: "tns:ID"
        case .boolean: "xsd:boolean"
        case .int: "xsd:int"
        case .long: "xsd:long"
        case .double, .currency, .percent: "xsd:double"
        case .date: "xsd:date"
        case .datetime: "xsd:dateTime"
        case .time: "xsd:time"
        case .address: "urn:address"
        default: "xsd:string"
        }
    }

    /// Types whose values Salesforce writes with Java's `Double.toString` (see ``JavaDouble``).
    var isJavaDouble: Bool { self == .double || self == .currency || self == .percent }

    /// How WHERE compares values of this type.
    var comparison: Comparison {
        switch self {
        case .int, .long, .double, .currency, .percent: .numeric
        case .boolean: .boolean
        default: .text
        }
    }

    enum Comparison { case numeric, boolean, text }
}

/// How the generator produces a field's value for base record `i`. An enum rather than closures so the hot loop
/// is a switch, not an indirect call per value.
enum Recipe: Sendable {
    case id
    case isDeleted
    case alwaysNull
    case reference(object: String, nullPercent: Int)
    case user
    case firstName(nullPercent: Int)
    case lastName
    /// Contact.Name: computed from FirstName and LastName (also for mutated records).
    case fullName
    /// User.Username and Email: the integration user for index 0, `user<i>@sfpg.example` otherwise.
    case username
    /// User.Alias.
    case alias
    case companyName
    case opportunityName
    case pick([String], nullPercent: Int)
    case multiPick([String], nullPercent: Int)
    case phone(nullPercent: Int)
    case email(nullPercent: Int)
    case street(nullPercent: Int)
    case decimal(min: Double, max: Double, scale: Int, nullPercent: Int)
    case integer(min: Int, max: Int, nullPercent: Int)
    case date(fromYear: Int, years: Int, nullPercent: Int)
    case time(nullPercent: Int)
    case createdDate, lastModifiedDate, systemModstamp
    case datetime(nullPercent: Int)
    case bool(truePercent: Int)
    case description
    case url(nullPercent: Int)
    /// Formula: "LastName, FirstName (Title)"; recomputed on read unless `setCalculated` pinned a value.
    case formulaLabel
    /// Formula on Opportunity: Amount × Probability / 100.
    case formulaExpected
}

/// One field of an emulated object: describe metadata plus its generator recipe.
struct FieldDefinition: Sendable {
    var name: String
    var type: FieldType
    var label: String
    var length = 0
    var precision = 0
    var scale = 0
    var digits = 0
    var nillable = true
    var calculated = false
    var custom = false
    var createable = true
    var updateable = true
    var referenceTo: [String] = []
    var relationshipName: String?
    var compoundFieldName: String?
    var picklistValues: [String] = []
    var recipe: Recipe

    init(
        _ name: String, _ type: FieldType, label: String? = nil, length: Int = 0, precision: Int = 0, scale: Int = 0,
        digits: Int = 0, nillable: Bool = true, calculated: Bool = false, system: Bool = false,
        referenceTo: [String] = [], relationshipName: String? = nil, compound: String? = nil,
        picklist: [String] = [], recipe: Recipe
    ) {
        (self.name, self.type, self.recipe) = (name, type, recipe)
        self.label = label ?? (name.hasSuffix("__c") ? String(name.dropLast(3)) : name)
        (self.length, self.precision, self.scale, self.digits) = (length, precision, scale, digits)
        (self.nillable, self.calculated, custom) = (nillable, calculated, name.hasSuffix("__c"))
        (createable, updateable) = (!(system || calculated), !(system || calculated))
        (self.referenceTo, self.relationshipName, compoundFieldName) = (referenceTo, relationshipName, compound)
        picklistValues = picklist
    }

    /// Compound fields (address) appear in describe but cannot be selected in Bulk queries.
    var isCompound: Bool { type == .address }
}

extension FieldDefinition {
    /// A component of the compound address `<prefix>Address` (`BillingCity` of `BillingAddress`), labelled
    /// "<prefix> <label>" (`label` defaults to `part`).
    static func addressPart(
        _ prefix: String, _ part: String, _ type: FieldType, label: String? = nil, length: Int = 0, precision: Int = 0,
        scale: Int = 0, picklist: [String] = [], recipe: Recipe
    ) -> FieldDefinition {
        FieldDefinition(
            prefix + part, type, label: "\(prefix) \(label ?? part)", length: length, precision: precision, scale: scale,
            compound: prefix + "Address", picklist: picklist, recipe: recipe)
    }
}
