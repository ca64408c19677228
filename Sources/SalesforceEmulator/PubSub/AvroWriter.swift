/// Avro binary encoding, the little the emulator's change events need (Avro 1.11 spec, "Binary Encoding"): the
/// client's decoder in `Sources/Avro` is deliberately not reused, so a misreading of the spec on one side cannot
/// hide behind the same misreading on the other.
struct AvroWriter {
    private(set) var bytes: [UInt8] = []

    /// `int` and `long`: zig-zag, then base-128 varint, low group first.
    mutating func long(_ value: Int64) {
        var n = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while n >= 0x80 {
            bytes.append(UInt8(n & 0x7F) | 0x80)
            n >>= 7
        }
        bytes.append(UInt8(n))
    }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// IEEE 754 binary64, little-endian.
    mutating func double(_ value: Double) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        long(Int64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// An array of strings as one block (count, items) and the terminating empty block.
    mutating func strings(_ values: [String]) {
        if !values.isEmpty {
            long(Int64(values.count))
            values.forEach { string($0) }
        }
        long(0)
    }

    /// The branch of `["null", T]`: 0 for null, else 1 followed by the value.
    mutating func optional(_ present: Bool) { long(present ? 1 : 0) }
}
