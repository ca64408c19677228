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
