/// Turns the bitmap fields of a change event's `ChangeEventHeader` (`changedFields`, `nulledFields`, `diffFields`)
/// into field names.
///
/// Pub/Sub API delivers these raw, as Salesforce's "Event Deserialization Considerations" describes
/// (https://developer.salesforce.com/docs/platform/pub-sub-api/guide/event-deserialization-considerations.html):
/// an array of strings whose `0x…` element is a hexadecimal bitmap of the event record's fields, a set bit marking
/// the field at that position of the Avro schema, and whose `{ParentFieldPosition}-{NestedFieldBitmap}` elements
/// (`'4-0x10'`) mark nested fields of the compound field at that position (an address, a person name). Bit 0 is the
/// least significant bit of the number and positions count from 0, as in Salesforce's own decoder
/// (forcedotcom/pub-sub-api `python/util/ChangeEventHeaderUtility.py`), so `0x1` is the `ChangeEventHeader` itself.
public enum ChangeEventBitmap {
    /// The names of the fields a bitmap list marks: top-level names, then `Parent.Child` for nested fields.
    ///
    /// ```swift
    /// // With ChangeEventHeader, Name, Email, Phone, MailingAddress as fields 0...4:
    /// try ChangeEventBitmap.fieldNames(["0x0C", "4-0x02"], in: record)  // ["Email", "Phone", "MailingAddress.City"]
    /// ```
    /// - Parameters:
    ///   - bitmaps: the header's `changedFields`, `nulledFields` or `diffFields` as decoded.
    ///   - record: the event's record type (``AvroSchema/root``), from the schema the event was written with.
    /// - Throws: ``AvroError`` with code `invalidBitmap` when an entry is malformed or marks a position the record
    ///   does not have, which means the bitmap and the schema do not belong together.
    public static func fieldNames(_ bitmaps: [String], in record: AvroRecord) throws(AvroError) -> [String] {
        var names: [String] = []
        for entry in bitmaps {
            guard let dash = entry.firstIndex(of: "-") else {
                for position in try positions(entry[...], entry: entry) {
                    names.append(try field(position, of: record, entry: entry).name)
                }
                continue
            }
            guard let parentPosition = Int(entry[..<dash]) else {
                throw invalid(entry, "its parent position \"\(entry[..<dash])\" is not a number")
            }
            let parent = try field(parentPosition, of: record, entry: entry)
            guard let compound = parent.type.record else {
                throw invalid(entry, "position \(parentPosition) is \(parent.name), which is not a compound field")
            }
            for position in try positions(entry[entry.index(after: dash)...], entry: entry) {
                names.append(parent.name + "." + (try field(position, of: compound, entry: entry).name))
            }
        }
        return names
    }

    /// The set bits of a `0x…` bitmap, lowest first; hex digit k from the right holds bits 4k to 4k+3.
    private static func positions(_ bitmap: Substring, entry: String) throws(AvroError) -> [Int] {
        guard bitmap.hasPrefix("0x") || bitmap.hasPrefix("0X"), bitmap.count > 2 else {
            throw invalid(entry, "a bitmap must be \"0x\" followed by hexadecimal digits")
        }
        var positions: [Int] = []
        for (digitIndex, digit) in bitmap.dropFirst(2).reversed().enumerated() {
            guard digit.isASCII, let value = digit.hexDigitValue else {
                throw invalid(entry, "\"\(digit)\" is not a hexadecimal digit")
            }
            positions += (0..<4).filter { value >> $0 & 1 == 1 }.map { digitIndex * 4 + $0 }
        }
        return positions
    }

    private static func field(_ position: Int, of record: AvroRecord, entry: String) throws(AvroError) -> AvroField {
        guard record.fields.indices.contains(position) else {
            throw invalid(entry, "it marks position \(position) but \(record.name) has \(record.fields.count) fields")
        }
        return record.fields[position]
    }

    private static func invalid(_ entry: String, _ problem: String) -> AvroError {
        AvroError(
            code: .invalidBitmap,
            message: "Cannot read the change event bitmap \"\(entry)\": \(problem). Expand bitmaps with the schema "
                + "of the event they came in (fetch it by the event's schema id).")
    }
}
