/// The REST describe JSON of an emulated object.
enum DescribeRenderer {
    static func describe(_ table: ObjectTable, version: String, replicateable: Bool = true) -> JSONValue {
        let schema = table.schema
        let fields = schema.fields.indices.filter { !table.removedFields.contains($0) }.map { field(schema.fields[$0]) }
        let base = "/services/data/v\(version)/sobjects/\(schema.name)"
        return .object([
            ("name", .string(schema.name)), ("label", .string(schema.label)),
            ("labelPlural", .string(schema.labelPlural)), ("keyPrefix", .string(schema.keyPrefix)),
            ("custom", .bool(schema.name.hasSuffix("__c"))), ("queryable", true), ("replicateable", .bool(replicateable)), ("retrieveable", true),
            ("createable", true), ("updateable", true), ("deletable", true), ("undeletable", true),
            ("searchable", true), ("layoutable", true), ("triggerable", true), ("feedEnabled", false),
            ("fields", .array(fields)), ("childRelationships", .array([])),
            // Every object has at least the Master record type, whose Id is the same fixed value in every org.
            ("recordTypeInfos", .array([.object([
                ("active", true), ("available", true), ("defaultRecordTypeMapping", true),
                ("developerName", "Master"), ("master", true), ("name", "Master"),
                ("recordTypeId", "012000000000000AAA"),
                ("urls", .object([("layout", .string(base + "/describe/layouts/012000000000000AAA"))])),
            ])])),
            ("urls", .object([("sobject", .string(base)), ("describe", .string(base + "/describe"))])),
        ])
    }

    static func field(_ f: FieldDefinition) -> JSONValue {
        let isText = [.string, .textarea, .email, .phone, .url, .picklist, .multipicklist, .id, .reference]
            .contains(f.type)
        let length = isText ? f.length : 0
        // Ids are ASCII: 18 bytes; other text is budgeted at 3 bytes per character (UTF-8 as Salesforce counts it).
        let byteLength = f.type == .id || f.type == .reference ? 18 : length * 3
        // A text area of up to 255 characters is filterable and sortable; long text areas are not.
        let longText = f.type == .textarea && f.length > 255
        return .object([
            ("name", .string(f.name)), ("label", .string(f.label)), ("type", .string(f.type.rawValue)),
            ("soapType", .string(f.type.soapType)), ("length", .int(length)), ("byteLength", .int(byteLength)),
            ("precision", .int(f.precision)), ("scale", .int(f.scale)), ("digits", .int(f.digits)),
            ("nillable", .bool(f.nillable)), ("calculated", .bool(f.calculated)),
            ("calculatedFormula", f.calculated ? .string(formula(f)) : .null),
            ("custom", .bool(f.custom)), ("createable", .bool(f.createable)), ("updateable", .bool(f.updateable)),
            ("filterable", .bool(!longText && f.type != .address)),
            ("sortable", .bool(!longText && f.type != .multipicklist && f.type != .address)),
            ("groupable", .bool(![.textarea, .double, .currency, .percent, .datetime, .address].contains(f.type))),
            ("unique", false), ("externalId", false), ("idLookup", .bool(f.type == .id)),
            ("nameField", .bool(f.name == "Name")), ("autoNumber", false),
            ("defaultedOnCreate", .bool(f.type == .boolean || f.name == "OwnerId" || f.type == .id)),
            ("deprecatedAndHidden", false), ("htmlFormatted", false), ("polymorphicForeignKey", false),
            ("restrictedPicklist", false), ("dependentPicklist", false), ("caseSensitive", false),
            ("referenceTo", .array(f.referenceTo.map(JSONValue.string))),
            ("relationshipName", .optional(f.relationshipName)),
            ("compoundFieldName", .optional(f.compoundFieldName)),
            ("extraTypeInfo", f.type == .textarea ? "plaintextarea" : (f.type == .datetime ? .null : .null)),
            ("defaultValue", .null),
            ("picklistValues", .array(f.picklistValues.map { v in
                .object([("value", .string(v)), ("label", .string(v)), ("active", true), ("defaultValue", false),
                         ("validFor", .null)])
            })),
        ])
    }

    private static func formula(_ f: FieldDefinition) -> String {
        switch f.recipe {
        case .formulaLabel: "LastName & \", \" & FirstName & IF(ISBLANK(Title), \"\", \" (\" & Title & \")\")"
        case .formulaExpected: "Amount * Probability"
        default: ""
        }
    }
}
