import Avro
import Testing

@Suite("Avro schema parsing")
struct AvroSchemaTests {
    @Test("full names follow the namespace rules; a named type is inlined where it is referenced")
    func namedTypes() throws {
        let schema = try AvroSchema(json: vector("change event create").schema)
        let record = try #require(schema.root.record)
        #expect(record.name == "com.sforce.eventbus.ContactChangeEvent")
        #expect(
            record.fields.map(\.name).prefix(5) == ["ChangeEventHeader", "Name", "Email", "Phone", "MailingAddress"])
        #expect(
            schema.namedTypes.keys.sorted() == [
                "com.sforce.eventbus.Address", "com.sforce.eventbus.ChangeEventHeader",
                "com.sforce.eventbus.ChangeType",
                "com.sforce.eventbus.ContactChangeEvent", "com.sforce.eventbus.Switchable_PersonName",
            ])
        #expect(record.fields[5].type == record.fields[4].type, "OtherAddress refers to MailingAddress's Address")
        #expect(record.fields[6].type == .union([.null, .int]), "the date logical type decodes as its int")
        let outer = try AvroSchema(json: vector("named references").schema)
        #expect(
            outer.namedTypes.keys.sorted() == [
                "com.example.Hash", "com.example.Inner", "com.example.Outer", "org.other.Kind", "org.other.Thing",
            ])
    }

    @Test("a type that refers to itself stays a reference")
    func recursiveType() throws {
        let schema = try AvroSchema(json: vector("recursive list").schema)
        #expect(schema.root.record?.fields[1].type == .union([.null, .reference("Node")]))
    }

    @Test(
        "bad schemas name the place and the problem",
        arguments: [
            (
                #"{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}"#,
                "at R.a: unknown type \"Missing\""
            ),
            (#"{"type":"record","name":"R","fields":[{"name":"a"}]}"#, "at R.fields[0]: a field needs"),
            (#"{"type":"enum","name":"E","symbols":[1]}"#, "an enum needs \"symbols\""),
            (#"{"type":"fixed","name":"F","size":-1}"#, "non-negative integer"),
            (#"{"type":"array"}"#, "an array needs \"items\""),
            (
                #"["null",{"type":"record","name":"R","fields":[]},"R",{"type":"record","name":"R","fields":[]}]"#,
                "at schema[3]: the type \"R\" is defined twice"
            ),
            (#"{"type":"record","name":"R","fields":"#, "not valid JSON"),
            ("42", "expected a type name"),
        ])
    func invalidSchema(json: String, expected: String) {
        let error = #expect(throws: AvroError.self) { try AvroSchema(json: json) }
        #expect(error?.code == .invalidSchema)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }
}
