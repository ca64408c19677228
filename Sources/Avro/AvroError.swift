/// The one error type of the Avro decoder: a bad schema, a payload that does not match its schema, or a
/// change-event bitmap that names no field.
///
/// `description` never contains payload contents, only positions, so it is safe to log. Branch on ``code``.
public struct AvroError: Error, CustomStringConvertible, Sendable {
    /// A small, open set of failure kinds; new codes may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The schema JSON is not valid JSON or not a valid Avro schema.
        public static let invalidSchema = Code("invalidSchema")
        /// The payload ends before the value the schema describes is complete.
        public static let truncated = Code("truncated")
        /// A length, block count or block size is negative or larger than what is left of the payload.
        public static let invalidLength = Code("invalidLength")
        /// A varint is longer than 10 bytes or out of range for its type.
        public static let invalidVarint = Code("invalidVarint")
        /// A union branch or enum symbol index is outside the schema's list.
        public static let invalidIndex = Code("invalidIndex")
        /// A string is not valid UTF-8, or a boolean byte is neither 0 nor 1.
        public static let invalidValue = Code("invalidValue")
        /// Bytes are left over after the value: the payload was written with another schema.
        public static let trailingBytes = Code("trailingBytes")
        /// Nesting or item counts exceed what the payload's size allows, a sign of a corrupt payload.
        public static let limitExceeded = Code("limitExceeded")
        /// A `changedFields`/`nulledFields`/`diffFields` entry is malformed or names a position the schema lacks.
        public static let invalidBitmap = Code("invalidBitmap")
    }

    /// What kind of failure this is.
    public var code: Code
    /// What failed, where, and what to do about it.
    public var message: String
    /// Where in the schema it failed, such as `ContactChangeEvent.ChangeEventHeader.recordIds[1]`.
    public var path: String
    /// The byte offset in the payload, for decoding errors.
    public var offset: Int?

    /// Creates an error; `message` must not contain payload contents.
    public init(code: Code, message: String, path: String = "", offset: Int? = nil) {
        (self.code, self.message, self.path, self.offset) = (code, message, path, offset)
    }

    public var description: String { "Avro \(code): \(message)" }
}
