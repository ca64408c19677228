import Foundation

extension ObjectSchema {
    static let wideName = "Wide__c"

    /// `Wide__c`: a custom object with `customFields` custom fields (text, numbers, checkboxes, dates), every tenth a
    /// formula, for clients that must split an object too wide for one query (`QUERY_TOO_COMPLICATED` with
    /// ``EmulatorConfiguration/maxQueryWeight``). Present only when configured.
    static func wide(customFields: Int) -> ObjectSchema {
        let (head, tail) = systemFields(idLabel: "Record ID")
        let name = FieldDefinition("Name", .string, label: "Wide Name", length: 80, nillable: false, recipe: .companyName)
        let custom = (1...max(1, customFields)).map(wideField)
        return ObjectSchema(
            name: wideName, label: "Wide", labelPlural: "Wides", keyPrefix: "a0W", fields: head + [name] + custom + tail)
    }

    private static func wideField(_ k: Int) -> FieldDefinition {
        let name = String(format: "Field_%03d__c", k)
        if k % 10 == 0 {
            return FieldDefinition(
                name, .double, precision: 18, scale: 2, calculated: true,
                recipe: .decimal(min: 0, max: 10_000, scale: 2, nullPercent: 10))
        }
        switch k % 4 {
        case 0: return FieldDefinition(name, .boolean, nillable: false, recipe: .bool(truePercent: 30))
        case 1: return FieldDefinition(name, .string, length: 255, recipe: .street(nullPercent: 20))
        case 2:
            return FieldDefinition(
                name, .double, precision: 18, scale: 2, recipe: .decimal(min: -1000, max: 1_000_000, scale: 2, nullPercent: 15))
        default: return FieldDefinition(name, .date, recipe: .date(fromYear: 2015, years: 10, nullPercent: 25))
        }
    }
}
