extension ObjectSchema {
    static let industries = [
        "Agriculture", "Banking", "Biotechnology", "Chemicals", "Communications", "Construction", "Education",
        "Electronics", "Energy", "Engineering", "Entertainment", "Finance", "Healthcare", "Hospitality", "Retail",
    ]
    static let accountTypes = ["Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other"]
    static let ratings = ["Hot", "Warm", "Cold"]
    static let stages = [
        "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
        "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
    ]
    static let forecast = ["Pipeline", "Best Case", "Commit", "Closed", "Omitted"]

    /// Fields every object shares, in Salesforce's usual order around the object's own fields.
    static func systemFields(idLabel: String) -> (head: [FieldDefinition], tail: [FieldDefinition]) {
        let head = [
            FieldDefinition("Id", .id, label: idLabel, length: 18, nillable: false, system: true, recipe: .id),
            FieldDefinition("IsDeleted", .boolean, label: "Deleted", nillable: false, system: true, recipe: .isDeleted),
        ]
        let owner = FieldDefinition(
            "OwnerId", .reference, label: "Owner ID", length: 18, nillable: false, referenceTo: ["User"],
            relationshipName: "Owner", recipe: .user)
        return (head, [owner] + auditFields)
    }

    /// Who created and last changed a record, and when: the same on every object.
    static let auditFields = [
        FieldDefinition(
            "CreatedDate", .datetime, label: "Created Date", nillable: false, system: true, recipe: .createdDate),
        FieldDefinition(
            "CreatedById", .reference, label: "Created By ID", length: 18, nillable: false, system: true,
            referenceTo: ["User"], relationshipName: "CreatedBy", recipe: .user),
        FieldDefinition(
            "LastModifiedDate", .datetime, label: "Last Modified Date", nillable: false, system: true,
            recipe: .lastModifiedDate),
        FieldDefinition(
            "LastModifiedById", .reference, label: "Last Modified By ID", length: 18, nillable: false,
            system: true, referenceTo: ["User"], relationshipName: "LastModifiedBy", recipe: .user),
        FieldDefinition(
            "SystemModstamp", .datetime, label: "System Modstamp", nillable: false, system: true,
            recipe: .systemModstamp),
    ]

    static let account: ObjectSchema = {
        let system = systemFields(idLabel: "Account ID")
        let own: [FieldDefinition] = [
            FieldDefinition("Name", .string, label: "Account Name", length: 255, nillable: false, recipe: .companyName),
            FieldDefinition(
                "Type", .picklist, label: "Account Type", length: 255, picklist: accountTypes,
                recipe: .pick(accountTypes, nullPercent: 20)),
            FieldDefinition(
                "ParentId", .reference, label: "Parent Account ID", length: 18, referenceTo: ["Account"],
                relationshipName: "Parent", recipe: .reference(object: "Account", nullPercent: 85)),
            .addressPart("Billing", "Street", .textarea, length: 255, recipe: .street(nullPercent: 10)),
            .addressPart("Billing", "City", .string, length: 40, recipe: .pick(GeneratorWords.cities, nullPercent: 10)),
            .addressPart(
                "Billing", "Country", .string, length: 80, recipe: .pick(GeneratorWords.countries, nullPercent: 10)),
            FieldDefinition("BillingAddress", .address, label: "Billing Address", recipe: .alwaysNull),
            FieldDefinition("Phone", .phone, label: "Account Phone", length: 40, recipe: .phone(nullPercent: 15)),
            FieldDefinition("Website", .url, length: 255, recipe: .url(nullPercent: 20)),
            FieldDefinition(
                "Industry", .picklist, length: 255, picklist: industries, recipe: .pick(industries, nullPercent: 15)),
            FieldDefinition(
                "AnnualRevenue", .currency, label: "Annual Revenue", precision: 18, scale: 0,
                recipe: .decimal(min: 10_000, max: 5_000_000_000, scale: 0, nullPercent: 30)),
            FieldDefinition(
                "NumberOfEmployees", .int, label: "Employees", digits: 8,
                recipe: .integer(min: 1, max: 250_000, nullPercent: 25)),
            FieldDefinition(
                "Rating", .picklist, label: "Account Rating", length: 255, picklist: ratings,
                recipe: .pick(ratings, nullPercent: 40)),
            FieldDefinition("Description", .textarea, label: "Account Description", length: 32_000, recipe: .description),
            FieldDefinition(
                "Customer_Since__c", .date, label: "Customer Since",
                recipe: .date(fromYear: 2000, years: 25, nullPercent: 30)),
            FieldDefinition("Is_Strategic__c", .boolean, label: "Strategic", nillable: false, recipe: .bool(truePercent: 10)),
        ]
        return ObjectSchema(
            name: "Account", label: "Account", labelPlural: "Accounts", keyPrefix: "001",
            fields: system.head + own + system.tail)
    }()

    static let opportunity: ObjectSchema = {
        let system = systemFields(idLabel: "Opportunity ID")
        let own = [
            FieldDefinition(
                "AccountId", .reference, label: "Account ID", length: 18, referenceTo: ["Account"],
                relationshipName: "Account", recipe: .reference(object: "Account", nullPercent: 3)),
            FieldDefinition("Name", .string, length: 120, nillable: false, recipe: .opportunityName),
            FieldDefinition("Description", .textarea, length: 32_000, recipe: .description),
            FieldDefinition(
                "StageName", .picklist, label: "Stage", length: 255, nillable: false, picklist: stages,
                recipe: .pick(stages, nullPercent: 0)),
            FieldDefinition(
                "Amount", .currency, precision: 18, scale: 2,
                recipe: .decimal(min: 100, max: 3_000_000, scale: 2, nullPercent: 10)),
            FieldDefinition(
                "Probability", .percent, label: "Probability (%)", precision: 3, scale: 0,
                recipe: .integer(min: 0, max: 100, nullPercent: 5)),
            FieldDefinition(
                "CloseDate", .date, label: "Close Date", nillable: false,
                recipe: .date(fromYear: 2019, years: 8, nullPercent: 0)),
            FieldDefinition(
                "ForecastCategoryName", .picklist, label: "Forecast Category", length: 255, picklist: forecast,
                recipe: .pick(forecast, nullPercent: 0)),
            FieldDefinition("IsWon", .boolean, label: "Won", nillable: false, system: true, recipe: .bool(truePercent: 30)),
            FieldDefinition(
                "Competitor__c", .string, label: "Competitor", length: 100,
                recipe: .pick(GeneratorWords.companies, nullPercent: 60)),
            FieldDefinition(
                "Discount_Pct__c", .percent, label: "Discount %", precision: 5, scale: 2,
                recipe: .decimal(min: 0, max: 60, scale: 2, nullPercent: 50)),
            FieldDefinition(
                "Seats__c", .double, label: "Seats", precision: 7, scale: 0, recipe: .integer(min: 1, max: 5_000, nullPercent: 20)),
            FieldDefinition("Renewal__c", .boolean, label: "Renewal", nillable: false, recipe: .bool(truePercent: 35)),
            FieldDefinition(
                "Next_Step_Due__c", .datetime, label: "Next Step Due", recipe: .datetime(nullPercent: 45)),
            FieldDefinition(
                "Expected_Revenue__c", .currency, label: "Expected Revenue", precision: 18, scale: 2,
                calculated: true, recipe: .formulaExpected),
        ]
        return ObjectSchema(
            name: "Opportunity", label: "Opportunity", labelPlural: "Opportunities", keyPrefix: "006",
            fields: system.head + own + system.tail)
    }()

    static let timeZones = ["America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Tokyo"]

    /// User: the owner, creator and last modifier of every record (`Owner.Name`, `CreatedBy.Email`, …). Users have
    /// no `IsDeleted` and no owner; user 0 is the integration user.
    static let user = ObjectSchema(
        name: "User", label: "User", labelPlural: "Users", keyPrefix: "005",
        fields: [
            FieldDefinition("Id", .id, label: "User ID", length: 18, nillable: false, system: true, recipe: .id),
            FieldDefinition("Username", .string, length: 80, nillable: false, recipe: .username),
            FieldDefinition("LastName", .string, label: "Last Name", length: 80, nillable: false, recipe: .lastName),
            FieldDefinition("FirstName", .string, label: "First Name", length: 40, recipe: .firstName(nullPercent: 0)),
            FieldDefinition("Name", .string, label: "Full Name", length: 121, nillable: false, system: true, recipe: .fullName),
            FieldDefinition("Alias", .string, length: 8, nillable: false, recipe: .alias),
            FieldDefinition("Email", .email, length: 128, nillable: false, recipe: .username),
            FieldDefinition("IsActive", .boolean, label: "Active", nillable: false, recipe: .bool(truePercent: 90)),
            FieldDefinition(
                "ManagerId", .reference, label: "Manager ID", length: 18, referenceTo: ["User"],
                relationshipName: "Manager", recipe: .reference(object: "User", nullPercent: 30)),
            FieldDefinition(
                "TimeZoneSidKey", .picklist, label: "Time Zone", length: 40, nillable: false, picklist: timeZones,
                recipe: .pick(timeZones, nullPercent: 0)),
        ] + auditFields)
}
