/// 18-character Salesforce-style record Ids that encode (key prefix, index), so generated records need no
/// storage: `003` + pod `8d` + base-62 index (10 chars) + the real case-safety checksum suffix.
enum SalesforceId {
    private static let digits: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    private static let suffixAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345".utf8)
    static let pod = "8d"

    static func make(prefix: String, index: Int) -> String {
        String(unsafeUninitializedCapacity: 18) { bytes in
            var p = 0
            for b in prefix.utf8.prefix(3) { bytes[p] = b; p += 1 }
            bytes[3] = 56  // "8d"
            bytes[4] = 100
            var n = index
            for k in stride(from: 14, through: 5, by: -1) {
                bytes[k] = digits[n % 62]
                n /= 62
            }
            for chunk in 0..<3 {
                var bits = 0
                for j in 0..<5 where bytes[chunk * 5 + j] >= 65 && bytes[chunk * 5 + j] <= 90 { bits |= 1 << j }
                bytes[15 + chunk] = suffixAlphabet[bits]
            }
            return 18
        }
    }

    /// The 18-character form of a 15- or 18-character Id literal, or `nil` when it cannot be an Id (SOQL then
    /// fails with "invalid ID field"). A 15-character Id is case-sensitive and gets its checksum suffix; an
    /// 18-character Id is case-insensitive: its suffix restores the case of the first 15 characters.
    static func canonical(_ text: String) -> String? {
        var bytes = Array(text.utf8)
        guard bytes.count == 15 || bytes.count == 18, bytes.allSatisfy({ digitValue($0) != nil }) else { return nil }
        if bytes.count == 18 {
            for chunk in 0..<3 {
                guard let bits = suffixAlphabet.firstIndex(of: upper(bytes[15 + chunk])) else { return nil }
                for j in 0..<5 {
                    let k = chunk * 5 + j
                    let isLetter = (65...90).contains(upper(bytes[k]))
                    if isLetter { bytes[k] = bits & (1 << j) != 0 ? upper(bytes[k]) : lower(bytes[k]) }
                }
            }
            bytes.removeLast(3)
        }
        for chunk in 0..<3 {
            var bits = 0
            for j in 0..<5 where bytes[chunk * 5 + j] >= 65 && bytes[chunk * 5 + j] <= 90 { bits |= 1 << j }
            bytes.append(suffixAlphabet[bits])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func upper(_ b: UInt8) -> UInt8 { (97...122).contains(b) ? b - 32 : b }
    private static func lower(_ b: UInt8) -> UInt8 { (65...90).contains(b) ? b + 32 : b }

    /// The (prefix, index) an Id encodes, or `nil` when it is not one of ours.
    static func parse(_ id: String) -> (prefix: String, index: Int)? {
        let bytes = Array(id.utf8)
        guard bytes.count == 18 || bytes.count == 15 else { return nil }
        var n = 0
        for k in 5..<15 {
            guard let d = digitValue(bytes[k]) else { return nil }
            n = n * 62 + d
        }
        return (String(decoding: bytes[0..<3], as: UTF8.self), n)
    }

    private static func digitValue(_ b: UInt8) -> Int? {
        switch b {
        case 48...57: Int(b) - 48
        case 65...90: Int(b) - 55
        case 97...122: Int(b) - 61
        default: nil
        }
    }
}
