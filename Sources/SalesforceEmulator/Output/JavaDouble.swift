/// Java's `Double.toString`, which is how Salesforce writes double, currency and percent values in Bulk CSV and
/// REST JSON (`1234567.0`, `1.2345678E7`, `9.0E7`; KB 000221617, 000385889). A client that parses these with a
/// fixed-point or integer parser works against a fixed-point emulator and fails against a real org, so the
/// emulator must write them exactly this way.
enum JavaDouble {
    /// Plain decimal for 1e-3 ≤ |x| < 1e7, otherwise computerized scientific notation `d.dddE±n`; always at least
    /// one digit after the point; the shortest digits that round-trip (Java 19+ and Swift agree on those).
    static func format(_ x: Double) -> String {
        if x.isNaN { return "NaN" }
        if x.isInfinite { return x < 0 ? "-Infinity" : "Infinity" }
        if x == 0 { return x.sign == .minus ? "-0.0" : "0.0" }
        let (digits, exponent) = shortestDigits(x.magnitude)
        let sign = x < 0 ? "-" : ""
        let magnitude = x.magnitude
        if magnitude >= 1e-3 && magnitude < 1e7 {
            // value = 0.d1d2…dn × 10^(exponent+1): `exponent` is the power of ten of the first digit.
            if exponent >= 0 {
                let intCount = exponent + 1
                let intPart = digits.count >= intCount
                    ? String(digits.prefix(intCount)) : digits + String(repeating: "0", count: intCount - digits.count)
                let fracPart = digits.count > intCount ? String(digits.dropFirst(intCount)) : "0"
                return sign + intPart + "." + fracPart
            }
            return sign + "0." + String(repeating: "0", count: -exponent - 1) + digits
        }
        let first = digits.prefix(1)
        let rest = digits.count > 1 ? String(digits.dropFirst()) : "0"
        return sign + first + "." + rest + "E" + String(exponent)
    }

    /// Formats the text of a number (as stored or given by an admin) the Java way; text that is not a number is
    /// returned unchanged.
    static func format(text: String) -> String {
        guard let value = Double(text) else { return text }
        return format(value)
    }

    /// The shortest round-trip significant digits of a positive finite `x` (no leading or trailing zeros) and the
    /// decimal exponent of the first digit, taken from Swift's `description` (also shortest round-trip).
    static func shortestDigits(_ x: Double) -> (digits: String, exponent: Int) {
        let text = x.description  // e.g. "1234567.0", "1e-05", "1.2345e+16", "0.001"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...].replacingOccurrences(of: "+", with: "")) ?? 0
        }
        let point = mantissa.firstIndex(of: ".")
        let intPart = point.map { mantissa[..<$0] } ?? mantissa
        let fracPart = point.map { mantissa[mantissa.index(after: $0)...] } ?? ""
        var all = Array(intPart + fracPart)
        // Position of the first digit relative to the point: with int part "123", the first digit is 10^2.
        var firstPower = intPart.count - 1 + exponent
        while all.first == "0" && all.count > 1 {
            all.removeFirst()
            firstPower -= 1
        }
        while all.last == "0" && all.count > 1 { all.removeLast() }
        return (String(all), firstPower)
    }
}
