extension ObjectSchema {
    static let salutations = ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]
    static let leadSources = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
    static let levels = ["Primary", "Secondary", "Tertiary"]
    static let languages = ["English", "Français", "Deutsch", "日本語", "Español", "Português"]
    static let geocodeAccuracy = ["Address", "NearAddress", "Block", "Street", "ExtendedZip", "Zip", "City"]

    /// Contact: the standard fields of the reference's §6 plus one custom field of every describe type and a formula.
    static let contact = ObjectSchema(
        name: "Contact", label: "Contact", labelPlural: "Contacts", keyPrefix: "003",
        fields: [
            FieldDefinition("Id", .id, label: "Contact ID", length: 18, nillable: false, system: true, recipe: .id),
            FieldDefinition("IsDeleted", .boolean, label: "Deleted", nillable: false, system: true, recipe: .isDeleted),
            FieldDefinition(
                "MasterRecordId", .reference, label: "Master Record ID", length: 18, system: true,
                referenceTo: ["Contact"], relationshipName: "MasterRecord", recipe: .alwaysNull),
            FieldDefinition(
                "AccountId", .reference, label: "Account ID", length: 18, referenceTo: ["Account"],
                relationshipName: "Account", recipe: .reference(object: "Account", nullPercent: 5)),
            FieldDefinition("LastName", .string, label: "Last Name", length: 80, nillable: false, recipe: .lastName),
            FieldDefinition("FirstName", .string, label: "First Name", length: 40, recipe: .firstName(nullPercent: 8)),
            FieldDefinition(
                "Salutation", .picklist, length: 40, picklist: salutations,
                recipe: .pick(salutations, nullPercent: 30)),
            FieldDefinition("Name", .string, label: "Full Name", length: 121, nillable: false, system: true, recipe: .fullName),
            .addressPart("Mailing", "Street", .textarea, length: 255, recipe: .street(nullPercent: 15)),
            .addressPart("Mailing", "City", .string, length: 40, recipe: .pick(GeneratorWords.cities, nullPercent: 15)),
            .addressPart(
                "Mailing", "State", .string, label: "State/Province", length: 80,
                recipe: .pick(GeneratorWords.states, nullPercent: 20)),
            .addressPart(
                "Mailing", "PostalCode", .string, label: "Zip/Postal Code", length: 20,
                recipe: .integer(min: 1000, max: 99_999, nullPercent: 15)),
            .addressPart(
                "Mailing", "Country", .string, length: 80, recipe: .pick(GeneratorWords.countries, nullPercent: 15)),
            .addressPart(
                "Mailing", "Latitude", .double, precision: 18, scale: 15,
                recipe: .decimal(min: -90, max: 90, scale: 15, nullPercent: 40)),
            .addressPart(
                "Mailing", "Longitude", .double, precision: 18, scale: 15,
                recipe: .decimal(min: -180, max: 180, scale: 15, nullPercent: 40)),
            .addressPart(
                "Mailing", "GeocodeAccuracy", .picklist, label: "Geocode Accuracy", length: 40, picklist: geocodeAccuracy,
                recipe: .pick(geocodeAccuracy, nullPercent: 60)),
            FieldDefinition(
                "MailingAddress", .address, label: "Mailing Address", recipe: .alwaysNull),
            FieldDefinition("Phone", .phone, label: "Business Phone", length: 40, recipe: .phone(nullPercent: 20)),
            FieldDefinition("Fax", .phone, label: "Business Fax", length: 40, recipe: .phone(nullPercent: 80)),
            FieldDefinition("MobilePhone", .phone, label: "Mobile Phone", length: 40, recipe: .phone(nullPercent: 40)),
            FieldDefinition("HomePhone", .phone, label: "Home Phone", length: 40, recipe: .phone(nullPercent: 70)),
            FieldDefinition("OtherPhone", .phone, label: "Other Phone", length: 40, recipe: .phone(nullPercent: 90)),
            FieldDefinition(
                "ReportsToId", .reference, label: "Reports To ID", length: 18, referenceTo: ["Contact"],
                relationshipName: "ReportsTo", recipe: .reference(object: "Contact", nullPercent: 70)),
            FieldDefinition("Email", .email, length: 80, recipe: .email(nullPercent: 10)),
            FieldDefinition("Title", .string, length: 128, recipe: .pick(GeneratorWords.titles, nullPercent: 25)),
            FieldDefinition(
                "Department", .string, length: 80, recipe: .pick(GeneratorWords.departments, nullPercent: 35)),
            FieldDefinition(
                "AssistantName", .string, label: "Assistant's Name", length: 40, recipe: .firstName(nullPercent: 85)),
            FieldDefinition(
                "LeadSource", .picklist, label: "Lead Source", length: 40, picklist: leadSources,
                recipe: .pick(leadSources, nullPercent: 30)),
            FieldDefinition("Birthdate", .date, recipe: .date(fromYear: 1940, years: 65, nullPercent: 40)),
            FieldDefinition("Description", .textarea, label: "Contact Description", length: 32_000, recipe: .description),
            FieldDefinition(
                "OwnerId", .reference, label: "Owner ID", length: 18, nillable: false, referenceTo: ["User"],
                relationshipName: "Owner", recipe: .user),
            FieldDefinition(
                "HasOptedOutOfEmail", .boolean, label: "Email Opt Out", nillable: false, recipe: .bool(truePercent: 12)),
            FieldDefinition("DoNotCall", .boolean, label: "Do Not Call", nillable: false, recipe: .bool(truePercent: 5)),
        ] + auditFields + [
            FieldDefinition(
                "LastActivityDate", .date, label: "Last Activity", system: true,
                recipe: .date(fromYear: 2021, years: 4, nullPercent: 50)),
            FieldDefinition(
                "Level__c", .picklist, label: "Level", length: 255, picklist: levels, recipe: .pick(levels, nullPercent: 30)),
            FieldDefinition(
                "Languages__c", .multipicklist, label: "Languages", length: 4099, picklist: languages,
                recipe: .multiPick(languages, nullPercent: 40)),
            FieldDefinition(
                "Score__c", .double, label: "Score", precision: 18, scale: 2,
                recipe: .decimal(min: -1000, max: 100_000, scale: 2, nullPercent: 20)),
            FieldDefinition(
                "Lifetime_Value__c", .currency, label: "Lifetime Value", precision: 16, scale: 2,
                recipe: .decimal(min: 0, max: 50_000_000, scale: 2, nullPercent: 25)),
            FieldDefinition(
                "Discount__c", .percent, label: "Discount", precision: 5, scale: 2,
                recipe: .decimal(min: 0, max: 100, scale: 2, nullPercent: 50)),
            // Custom Number fields are always `double` in a real describe (never `int`/`long`), even with scale 0,
            // and their values come out the Java way (`5.0E8`), which integer columns reject.
            FieldDefinition(
                "Visit_Count__c", .double, label: "Visit Count", precision: 9, scale: 0,
                recipe: .integer(min: 0, max: 999_999_999, nullPercent: 20)),
            FieldDefinition(
                "External_Number__c", .double, label: "External Number", precision: 18, scale: 0,
                recipe: .integer(min: -9_000_000_000_000, max: 9_000_000_000_000_000, nullPercent: 30)),
            FieldDefinition("Is_VIP__c", .boolean, label: "VIP", nillable: false, recipe: .bool(truePercent: 3)),
            FieldDefinition("Website__c", .url, label: "Website", length: 255, recipe: .url(nullPercent: 50)),
            FieldDefinition("Notes__c", .textarea, label: "Notes", length: 32_768, recipe: .description),
            FieldDefinition(
                "First_Contact__c", .date, label: "First Contact", recipe: .date(fromYear: 2015, years: 10, nullPercent: 30)),
            FieldDefinition("Preferred_Time__c", .time, label: "Preferred Time", recipe: .time(nullPercent: 50)),
            FieldDefinition(
                "Last_Survey__c", .datetime, label: "Last Survey", recipe: .datetime(nullPercent: 40)),
            FieldDefinition(
                "Display_Label__c", .string, label: "Display Label", length: 1300, calculated: true,
                recipe: .formulaLabel),
        ])
}
