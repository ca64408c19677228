import CivilTime

/// Tokens of the SOQL subset.
enum SOQLToken: Equatable, Sendable {
    case word(String)
    case number(String)
    case string(String)
    /// Unquoted date or datetime literal, kept as text.
    case temporal(String)
    case op(String)
    case comma, open, close
    case end
}

/// Splits SOQL text into tokens.
enum SOQLLexer {
    static func tokens(_ text: String) throws(SOQLError) -> [SOQLToken] {
        try located(text).map(\.token)
    }

    /// Tokens with the byte offset where each starts, for Salesforce's `ERROR at Row:1:Column:N` messages.
    static func located(_ text: String) throws(SOQLError) -> [(token: SOQLToken, offset: Int)] {
        let b = Array(text.utf8)
        var out: [(token: SOQLToken, offset: Int)] = []
        var p = 0
        while p < b.count {
            let c = b[p]
            let tokenStart = p
            func emit(_ token: SOQLToken) { out.append((token, tokenStart)) }
            switch c {
            case 32, 9, 10, 13: p += 1
            case 44: emit(.comma); p += 1
            case 40: emit(.open); p += 1
            case 41: emit(.close); p += 1
            case 61: emit(.op("=")); p += 1
            case 33:
                guard p + 1 < b.count, b[p + 1] == 61 else { throw .malformed("unexpected token: '!'", at: p) }
                emit(.op("!=")); p += 2
            case 60, 62:
                if p + 1 < b.count, b[p + 1] == 61 {
                    emit(.op(c == 60 ? "<=" : ">=")); p += 2
                } else if c == 60, p + 1 < b.count, b[p + 1] == 62 {
                    emit(.op("!=")); p += 2
                } else {
                    emit(.op(c == 60 ? "<" : ">")); p += 1
                }
            case 39:
                emit(.string(try stringLiteral(b, at: &p)))
            case 45, 48...57:
                emit(try numberOrTemporal(b, at: &p))
            default:
                guard isWord(c) else {
                    throw .malformed("unexpected token: '\(String(decoding: [c], as: UTF8.self))'", at: p)
                }
                let start = p
                while p < b.count, isWord(b[p]) { p += 1 }
                // Date literals with a parameter: `LAST_N_DAYS:7`.
                if p + 1 < b.count, b[p] == 58, (48...57).contains(b[p + 1]) {
                    p += 1
                    while p < b.count, (48...57).contains(b[p]) { p += 1 }
                }
                emit(.word(String(decoding: b[start..<p], as: UTF8.self)))
            }
        }
        out.append((.end, b.count))
        return out
    }

    private static func isWord(_ c: UInt8) -> Bool {
        (65...90).contains(c) || (97...122).contains(c) || (48...57).contains(c) || c == 95 || c == 46
    }

    /// The quoted string starting at `p` (on its opening `'`), unescaped; `p` ends past the closing quote.
    private static func stringLiteral(_ b: [UInt8], at p: inout Int) throws(SOQLError) -> String {
        var bytes: [UInt8] = []
        p += 1
        var closed = false
        while p < b.count {
            if b[p] == 92, p + 1 < b.count {
                switch b[p + 1] {
                case 110: bytes.append(10)
                case 114: bytes.append(13)
                case 116: bytes.append(9)
                // Kept escaped: only LIKE gives `\%` and `\_` a meaning (a literal % or _).
                case 37, 95: bytes.append(92); bytes.append(b[p + 1])
                default: bytes.append(b[p + 1])
                }
                p += 2
            } else if b[p] == 39 {
                closed = true
                p += 1
                break
            } else {
                bytes.append(b[p]); p += 1
            }
        }
        guard closed else { throw .malformed("unexpected token: <EOF>", at: b.count) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The number or date/datetime literal starting at `p`; `p` ends past it.
    private static func numberOrTemporal(_ b: [UInt8], at p: inout Int) throws(SOQLError) -> SOQLToken {
        let start = p
        p += 1
        // Datetimes contain '-', ':', '+', 'T', 'Z' and '.', so take the longest run of those.
        while p < b.count, isWord(b[p]) || b[p] == 45 || b[p] == 58 || b[p] == 43 { p += 1 }
        let text = String(decoding: b[start..<p], as: UTF8.self)
        if text.count >= 10, Timestamps.parseDate(String(text.prefix(10))) != nil { return .temporal(text) }
        if Double(text) != nil { return .number(text) }
        throw .malformed("unexpected token: '\(text)'", at: start)
    }
}
