import CivilTime

/// Base values of generated records: value (object, field, i) is a pure function of (seed, object, field, i), so
/// millions of records cost no memory until mutated.
struct RecordGenerator: Sendable {
    let seed: UInt64
    /// Base record counts by object name, for references.
    let counts: [String: Int]
    /// (object, key prefix, count) of reference targets; a short array beats hashing a String per value.
    private let targets: [(object: String, prefix: String, count: Int)]
    /// Generated Users; owner/creator/modifier references pick among them.
    private let userCount: Int

    init(seed: UInt64, counts: [String: Int]) {
        self.seed = seed
        self.counts = counts
        targets = ObjectSchema.all.map { ($0.name, $0.keyPrefix, counts[$0.name] ?? 0) }
        userCount = max(1, counts["User"] ?? 20)
    }

    /// 2020-01-01T00:00:00Z; generated records' timestamps start here.
    static let generatedEpochMillis: Int64 = 1_577_836_800_000

    /// Modstamps of base records: one second apart, starting a month after `generatedEpochMillis`, so they are
    /// distinct, increasing with `i`, and long in the past.
    static func systemModstamp(_ i: Int) -> Int64 { Self.generatedEpochMillis + 2_592_000_000 + Int64(i) * 1000 }

    @inline(__always)
    func hash(_ salt: UInt64, _ field: Int, _ i: Int) -> UInt64 {
        var z = seed &+ salt &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: i) &* 0xBF58_476D_1CE4_E5B9
            &+ UInt64(truncatingIfNeeded: field) &* 0x94D0_49BB_1331_11EB
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The base value of a non-computed field in the CSV text form; `nil` is null.
    func value(_ schema: ObjectSchema, salt: UInt64, field f: Int, index i: Int) -> String? {
        let raw = rawValue(schema, salt: salt, field: f, index: i)
        // Double, currency and percent values go out as Java's Double.toString writes them, as Salesforce does.
        guard let raw, schema.fields[f].type.isJavaDouble else { return raw }
        return JavaDouble.format(text: raw)
    }

    private func rawValue(_ schema: ObjectSchema, salt: UInt64, field f: Int, index i: Int) -> String? {
        let h = hash(salt, f, i)
        let roll = Int(h % 100)
        let r = h >> 8
        switch schema.fields[f].recipe {
        case .id: return SalesforceId.make(prefix: schema.keyPrefix, index: i)
        case .isDeleted: return "false"
        case .alwaysNull, .fullName, .formulaLabel, .formulaExpected: return nil
        case .reference(let object, let nullPercent):
            guard roll >= nullPercent, let target = targets.first(where: { $0.object == object }), target.count > 0
            else { return nil }
            return SalesforceId.make(prefix: target.prefix, index: Int(r % UInt64(target.count)))
        case .user: return SalesforceId.make(prefix: "005", index: Int(r % UInt64(userCount)))
        case .username: return i == 0 ? "integration@sfpg.example" : "user\(i)@sfpg.example"
        case .alias: return i == 0 ? "integ" : "usr\(i)"
        case .firstName(let nullPercent):
            return roll < nullPercent ? nil : GeneratorWords.firstNames[Int(r % UInt64(GeneratorWords.firstNames.count))]
        case .lastName: return GeneratorWords.lastNames[Int(r % UInt64(GeneratorWords.lastNames.count))]
        case .companyName:
            let c = GeneratorWords.companies[Int(r % UInt64(GeneratorWords.companies.count))]
            let s = GeneratorWords.companySuffixes[Int((r >> 12) % UInt64(GeneratorWords.companySuffixes.count))]
            return "\(c) \(s) #\(i)"
        case .opportunityName:
            let c = GeneratorWords.companies[Int(r % UInt64(GeneratorWords.companies.count))]
            return "\(c) – \(Int(r >> 20) % 500 + 1) seats"
        case .pick(let values, let nullPercent):
            return roll < nullPercent ? nil : values[Int(r % UInt64(values.count))]
        case .multiPick(let values, let nullPercent):
            guard roll >= nullPercent else { return nil }
            let picked = values.indices.filter { (r >> UInt64($0)) & 1 == 1 }.map { values[$0] }
            return picked.isEmpty ? values[0] : picked.joined(separator: ";")
        case .phone(let nullPercent): return roll < nullPercent ? nil : Self.phone(roll: roll, r: r)
        case .email(let nullPercent): return roll < nullPercent ? nil : Self.email(roll: roll, r: r, i: i)
        case .street(let nullPercent): return roll < nullPercent ? nil : Self.street(roll: roll, r: r)
        case .decimal(let min, let max, let scale, let nullPercent):
            guard roll >= nullPercent else { return nil }
            // One value in fifty carries a decimal more than the field's scale, as values set through the API or
            // Apex can (KB 000212661): Salesforce stores and returns them unrounded.
            return decimal(min: min, max: max, scale: roll % 50 == 3 ? scale + 1 : scale, r: r)
        case .integer(let min, let max, let nullPercent):
            return roll < nullPercent ? nil : Self.integer(min: min, max: max, r: r)
        case .date(let fromYear, let years, let nullPercent):
            return roll < nullPercent ? nil : Self.date(fromYear: fromYear, years: years, r: r)
        case .time(let nullPercent): return roll < nullPercent ? nil : Self.time(r: r)
        case .createdDate: return Timestamps.datetime(millis: Self.generatedEpochMillis + Int64(i) * 500)
        case .systemModstamp: return Timestamps.datetime(millis: Self.systemModstamp(i))
        case .lastModifiedDate:
            let back: Int64 = roll < 70 ? 0 : Int64(r % 600) * 1000
            return Timestamps.datetime(millis: Self.systemModstamp(i) - back)
        case .datetime(let nullPercent):
            guard roll >= nullPercent else { return nil }
            return Timestamps.datetime(millis: Self.generatedEpochMillis + Int64(r % 157_680_000) * 1000)
        case .bool(let truePercent): return roll < truePercent ? "true" : "false"
        case .url(let nullPercent):
            guard roll >= nullPercent else { return nil }
            return roll % 7 == 0 ? "www.example-\(i).com" : "https://www.example-\(r % 5000).com/path?id=\(i)&q=a,b"
        case .description: return description(roll: roll, r: r, i: i)
        }
    }

    /// Phone numbers in three national styles, as users type them.
    private static func phone(roll: Int, r: UInt64) -> String {
        let n = Int(r % 10_000_000)
        switch roll % 4 {
        case 0: return "+44 20 \(7000 + n % 1000) \(n % 10_000)"
        case 1: return "555.\(100 + n % 900).\(Timestamps.pad(Int64(n % 10_000), 4)) ext. \(n % 99)"
        default: return "(555) \(100 + n / 10_000 % 900)-\(Timestamps.pad(Int64(n % 10_000), 4))"
        }
    }

    /// Mostly valid addresses, with some malformed or quoted ones, as real orgs hold them.
    private static func email(roll: Int, r: UInt64, i: Int) -> String {
        switch roll % 20 {
        case 0: return "not-an-email-\(i)"
        case 1: return "first.last@@example..com"
        case 2: return "\"quoted,name\"+\(i)@exämple.com"
        default: return "user.\(i).\(r % 1000)@example.com"
        }
    }

    /// Streets, some over two lines (LF or CRLF) and with quotes, to exercise CSV quoting.
    private static func street(roll: Int, r: UInt64) -> String {
        let street = GeneratorWords.streets[Int(r % UInt64(GeneratorWords.streets.count))]
        switch roll % 5 {
        case 0: return "\(r % 9999 + 1) \(street)\nSuite \(r % 900 + 100)"
        case 1: return "\(r % 9999 + 1) \(street)\r\nBuilding \"B\", Floor \(r % 40)"
        default: return "\(r % 9999 + 1) \(street)"
        }
    }

    /// An integer in `min...max`.
    private static func integer(min: Int, max: Int, r: UInt64) -> String {
        let span = UInt64(max - min) &+ 1
        return String(min + Int(truncatingIfNeeded: span == 0 ? r : r % span))
    }

    /// A date in the `years` years from January 1 of `fromYear`.
    private static func date(fromYear: Int, years: Int, r: UInt64) -> String {
        let start = Timestamps.days(year: Int64(fromYear), month: 1, day: 1)
        return Timestamps.date(days: start + Int64(r % UInt64(years * 365)))
    }

    /// A time of day, `HH:mm:ss.000Z`.
    private static func time(r: UInt64) -> String {
        let s = Int64(r % 86_400)
        return "\(Timestamps.pad(s / 3600, 2)):\(Timestamps.pad(s / 60 % 60, 2)):\(Timestamps.pad(s % 60, 2)).000Z"
    }

    private func decimal(min: Double, max: Double, scale: Int, r: UInt64) -> String {
        var unit: Int64 = 1
        for _ in 0..<scale { unit *= 10 }
        let lo = Int64(min) * unit
        let span = UInt64(Int64(max) * unit - lo)
        let v = lo + Int64(r % span)
        guard scale > 0 else { return String(v) }
        let magnitude = v.magnitude
        let frac = String(magnitude % UInt64(unit))
        return (v < 0 ? "-" : "") + String(magnitude / UInt64(unit)) + "."
            + String(repeating: "0", count: scale - frac.count) + frac
    }

    private func description(roll: Int, r: UInt64, i: Int) -> String? {
        let w = GeneratorWords.words
        let a = w[Int(r % UInt64(w.count))]
        let b = w[Int((r >> 8) % UInt64(w.count))]
        switch roll {
        case 0..<35: return nil
        case 35..<55: return "Note: \(a) \(b) for record \(i)."
        case 55..<63: return "Said \"\(a)\", then \"\(b),\" and left, quickly"
        case 63..<71: return "Line one: \(a)\nLine two, \(b)\n\nLine four"
        case 71..<77: return "Windows line\r\nendings, \"\(a)\"\r\n"
        case 77..<83: return "Café crème — naïve résumé 😀👍🏽 日本語テキスト Ünïcödé \(a)"
        case 83: return String(repeating: "\(a) \(b), ", count: 40 + Int(r % 120))
        case 84..<86: return "Short: \(a)"
        case 86: return "NUL byte here:\u{0}after it"
        case 87..<90: return ["NA", "N/A", "null", "NULL"][Int(r % 4)]
        case 90..<93: return "  leading and trailing spaces  "
        case 93..<95: return "\"\",\"\",,\"\n\""
        default: return "\(a) \\ backslash \t tab; semi|pipe^caret`tick"
        }
    }
}
