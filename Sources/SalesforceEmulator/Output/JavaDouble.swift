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
        // Bytes, not Characters: this runs for every double of every result page.
        let (digits, exponent) = shortestDigitBytes(x.magnitude)
        let zero = UInt8(ascii: "0"), point = UInt8(ascii: ".")
        var out: [UInt8] = x < 0 ? [UInt8(ascii: "-")] : []
        out.reserveCapacity(digits.count + 8)
        let magnitude = x.magnitude
        if magnitude >= 1e-3 && magnitude < 1e7 {
            // value = 0.d1d2…dn × 10^(exponent+1): `exponent` is the power of ten of the first digit.
            if exponent >= 0 {
                let intCount = exponent + 1
                out.append(contentsOf: digits.prefix(intCount))
                if digits.count < intCount { out.append(contentsOf: repeatElement(zero, count: intCount - digits.count)) }
                out.append(point)
                if digits.count > intCount { out.append(contentsOf: digits[intCount...]) } else { out.append(zero) }
            } else {
                out.append(zero)
                out.append(point)
                out.append(contentsOf: repeatElement(zero, count: -exponent - 1))
                out.append(contentsOf: digits)
            }
        } else {
            out.append(digits[0])
            out.append(point)
            if digits.count > 1 { out.append(contentsOf: digits[1...]) } else { out.append(zero) }
            out.append(UInt8(ascii: "E"))
            out.append(contentsOf: String(exponent).utf8)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Formats the text of a number (as stored or given by an admin) the Java way; text that is not a number is
    /// returned unchanged.
    static func format(text: String) -> String {
        if let plain = plainDecimal(text) { return plain }
        guard let value = Double(text) else { return text }
        return format(value)
    }

    /// The Java form of a plain decimal text (`-?digits[.digits]`) that needs no parsing: at most 15 significant
    /// digits (every such decimal is its own shortest round-trip form, since distinct 15-digit decimals are distinct
    /// doubles) and |x| ≥ 1e-3. Java then writes the digits as they are, less leading zeros before and trailing
    /// zeros after the point, with at least one digit on each side, or as d.dddE<n> from 1e7 on. nil for anything else, which
    /// takes the general path. Generated numbers are all of this kind; formatting them through `Double.description`
    /// was a third of the emulator's CPU time per result page.
    static func plainDecimal(_ text: String) -> String? {
        var utf8 = Array(text.utf8)
        let negative = utf8.first == UInt8(ascii: "-")
        if negative { utf8.removeFirst() }
        let point = utf8.firstIndex(of: UInt8(ascii: "."))
        var integer = utf8[..<(point ?? utf8.endIndex)]
        var fraction = point.map { utf8[($0 + 1)...] } ?? []
        guard !integer.isEmpty, point == nil || !fraction.isEmpty,
            (integer.allSatisfy { $0 &- 48 < 10 }), (fraction.allSatisfy { $0 &- 48 < 10 })
        else { return nil }
        while integer.count > 1, integer.first == UInt8(ascii: "0") { integer.removeFirst() }
        while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
        let integerIsZero = integer == [UInt8(ascii: "0")]
        var out: [UInt8] = negative ? [UInt8(ascii: "-")] : []
        if integer.count > 7 {
            // |x| ≥ 1e7: d.dddE<n>, n = the power of ten of the first digit.
            var digits = Array(integer) + Array(fraction)
            while digits.count > 1, digits.last == UInt8(ascii: "0") { digits.removeLast() }
            guard digits.count <= 15 else { return nil }
            out.append(digits[0])
            out.append(UInt8(ascii: "."))
            if digits.count == 1 { out.append(UInt8(ascii: "0")) } else { out.append(contentsOf: digits[1...]) }
            out.append(UInt8(ascii: "E"))
            out.append(contentsOf: String(integer.count - 1).utf8)
            return String(decoding: out, as: UTF8.self)
        }
        let leadingFractionZeros = fraction.prefix { $0 == UInt8(ascii: "0") }.count
        let significant = integerIsZero ? fraction.count - leadingFractionZeros : integer.count + fraction.count
        // Zero (Java writes 0.0 and -0.0 its own way), too many digits, or |x| < 1e-3 (exponent form).
        guard significant > 0, significant <= 15, !integerIsZero || leadingFractionZeros < 3 else { return nil }
        out.append(contentsOf: integer)
        out.append(UInt8(ascii: "."))
        if fraction.isEmpty { out.append(UInt8(ascii: "0")) } else { out.append(contentsOf: fraction) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The shortest round-trip significant digits of a positive finite `x` (no leading or trailing zeros) and the
    /// decimal exponent of the first digit, taken from Swift's `description` (also shortest round-trip).
    static func shortestDigitBytes(_ x: Double) -> (digits: [UInt8], exponent: Int) {
        let text = Array(x.description.utf8)  // e.g. "1234567.0", "1e-05", "1.2345e+16", "0.001"
        var exponent = 0
        var mantissaEnd = text.endIndex
        if let e = text.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            mantissaEnd = e
            exponent = Int(String(decoding: text[(e + 1)...].filter { $0 != UInt8(ascii: "+") }, as: UTF8.self)) ?? 0
        }
        let mantissa = text[..<mantissaEnd]
        let point = mantissa.firstIndex(of: UInt8(ascii: "."))
        let intCount = (point ?? mantissaEnd) - mantissa.startIndex
        var all = mantissa.filter { $0 != UInt8(ascii: ".") }
        // Position of the first digit relative to the point: with int part "123", the first digit is 10^2.
        var firstPower = intCount - 1 + exponent
        var leading = 0
        while leading < all.count - 1 && all[leading] == UInt8(ascii: "0") {
            leading += 1
            firstPower -= 1
        }
        all.removeFirst(leading)
        while all.count > 1 && all.last == UInt8(ascii: "0") { all.removeLast() }
        return (all, firstPower)
    }
}
