extension JSONValue {
    /// The value as Salesforce's Bulk API 2.0 writes JSON, with Jackson's default pretty printer: object members one
    /// a line, indented two spaces a level, `"key" : value`; arrays inline (`[ 1, 2 ]`, `[ {` … `} ]`) without an
    /// indent level of their own; empty ones `{ }` and `[ ]`.
    var prettySerialized: [UInt8] {
        var out: [UInt8] = []
        writePretty(into: &out, depth: 0)
        return out
    }

    private func writePretty(into out: inout [UInt8], depth: Int) {
        switch self {
        case .array(let values):
            guard !values.isEmpty else { return out.append(contentsOf: "[ ]".utf8) }
            out.append(contentsOf: "[ ".utf8)
            for (k, value) in values.enumerated() {
                if k > 0 { out.append(contentsOf: ", ".utf8) }
                value.writePretty(into: &out, depth: depth)
            }
            out.append(contentsOf: " ]".utf8)
        case .object(let members):
            guard !members.isEmpty else { return out.append(contentsOf: "{ }".utf8) }
            out.append(123)
            for (k, (key, value)) in members.enumerated() {
                out.append(contentsOf: (k > 0 ? ",\n" : "\n").utf8)
                out.append(contentsOf: repeatElement(32, count: 2 * (depth + 1)))
                Self.writeString(key, into: &out)
                out.append(contentsOf: " : ".utf8)
                value.writePretty(into: &out, depth: depth + 1)
            }
            out.append(10)
            out.append(contentsOf: repeatElement(32, count: 2 * depth))
            out.append(125)
        default:
            write(into: &out)
        }
    }
}
