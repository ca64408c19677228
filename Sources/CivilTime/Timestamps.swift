/// Date and datetime text as Salesforce writes it, with integer civil-calendar arithmetic (Howard Hinnant's
/// `days_from_civil`): Foundation's formatters are slow and locale-sensitive. Shared by the client and the emulator
/// because it is calendar arithmetic, not Salesforce behaviour.
public enum Timestamps {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`. Written byte by byte: the emulator runs it for several fields of every row.
    public static func datetime(millis: Int64) -> String {
        let days = floorDiv(millis, 86_400_000)
        let msOfDay = millis - days * 86_400_000
        let (y, m, d) = civil(days: days)
        let s = msOfDay / 1000
        return String(unsafeUninitializedCapacity: 24) { buf in
            put(y, 4, buf, 0); buf[4] = 45; put(m, 2, buf, 5); buf[7] = 45; put(d, 2, buf, 8); buf[10] = 84
            put(s / 3600, 2, buf, 11); buf[13] = 58; put(s / 60 % 60, 2, buf, 14); buf[16] = 58
            put(s % 60, 2, buf, 17); buf[19] = 46; put(msOfDay % 1000, 3, buf, 20); buf[23] = 90
            return 24
        }
    }

    private static func put(_ value: Int64, _ width: Int, _ buf: UnsafeMutableBufferPointer<UInt8>, _ at: Int) {
        var v = value
        for k in stride(from: at + width - 1, through: at, by: -1) {
            buf[k] = UInt8(48 + v % 10)
            v /= 10
        }
    }

    /// REST JSON style `YYYY-MM-DDTHH:MM:SS.mmm+0000`.
    public static func restDatetime(millis: Int64) -> String {
        String(datetime(millis: millis).dropLast()) + "+0000"
    }

    /// `YYYY-MM-DD` for days since 1970-01-01.
    public static func date(days: Int64) -> String {
        let (y, m, d) = civil(days: days)
        return String(unsafeUninitializedCapacity: 10) { buf in
            put(y, 4, buf, 0); buf[4] = 45; put(m, 2, buf, 5); buf[7] = 45; put(d, 2, buf, 8)
            return 10
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of ``days(year:month:day:)``: (year, month, day).
    public static func civil(days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Epoch millis of `yyyy-MM-ddTHH:mm:ss[.fff](Z|±HHMM|±HH:MM)` (every spelling Salesforce and its docs use), or
    /// `nil`. Digits past the millisecond are read and dropped.
    public static func parseDatetime(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58,
            let y = number(b, 0, 4), let mo = number(b, 5, 2), let d = number(b, 8, 2),
            let h = number(b, 11, 2), let mi = number(b, 14, 2), let s = number(b, 17, 2),
            (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var p = 19
        var ms: Int64 = 0
        if b[p] == 46 {
            p += 1
            var scale: Int64 = 100
            while p < b.count, (48...57).contains(b[p]) {
                ms += Int64(b[p] - 48) * scale
                scale /= 10
                p += 1
            }
        }
        guard let offset = offsetMillis(b[p...]) else { return nil }
        return days(year: y, month: mo, day: d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000 + ms - offset
    }

    /// `Z`, `+0000`, `-05:30` as millis east of UTC; `nil` for anything else, or for text after the offset.
    private static func offsetMillis(_ tail: ArraySlice<UInt8>) -> Int64? {
        guard let sign = tail.first else { return nil }
        if sign == 90 { return tail.count == 1 ? 0 : nil }
        let rest = Array(tail.dropFirst().filter { $0 != 58 })
        guard sign == 43 || sign == 45, rest.count == 4, tail.count <= 6, let oh = number(rest, 0, 2),
            let om = number(rest, 2, 2)
        else { return nil }
        return (sign == 43 ? 1 : -1) * (oh * 60 + om) * 60_000
    }

    /// Days since 1970-01-01 of `YYYY-MM-DD`, or `nil`.
    public static func parseDate(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45, let y = number(b, 0, 4), let m = number(b, 5, 2),
            let d = number(b, 8, 2), (1...12).contains(m), (1...31).contains(d)
        else { return nil }
        return days(year: y, month: m, day: d)
    }

    private static func number(_ b: [UInt8], _ start: Int, _ count: Int) -> Int64? {
        guard start + count <= b.count else { return nil }
        var n: Int64 = 0
        for k in start..<(start + count) {
            guard (48...57).contains(b[k]) else { return nil }
            n = n * 10 + Int64(b[k] - 48)
        }
        return n
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// `n` in decimal, zero-padded to `width`.
    public static func pad(_ n: Int64, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }
}
