/// One part of a string split at a separator outside double quotes.
struct QuotedPart {
    var text: String
    /// Whether any of the part was inside quotes (so its spaces are meant).
    var wasQuoted: Bool
}

extension String {
    /// Splits at `separator` where it stands outside double quotes; inside quotes `""` is one quote. Both a CSV
    /// header line and a `"schema"."table"` name follow these rules.
    /// - Returns: nil when a quote is left open.
    func splitOutsideQuotes(at separator: Character) -> [QuotedPart]? {
        var parts: [QuotedPart] = []
        var current = QuotedPart(text: "", wasQuoted: false)
        var inQuotes = false
        var characters = Array(self)[...]
        while let character = characters.popFirst() {
            if inQuotes {
                if character == "\"" {
                    if characters.first == "\"" {
                        current.text.append("\"")
                        characters.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.text.append(character)
                }
            } else if character == "\"" {
                inQuotes = true
                current.wasQuoted = true
            } else if character == separator {
                parts.append(current)
                current = QuotedPart(text: "", wasQuoted: false)
            } else {
                current.text.append(character)
            }
        }
        parts.append(current)
        return inQuotes ? nil : parts
    }
}
