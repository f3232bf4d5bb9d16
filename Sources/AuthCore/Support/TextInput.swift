/// What text from clients may hold. Control characters (C0, DEL, C1) have no business in an
/// identifier, a name or a password, and NUL cannot even be stored: PostgreSQL's text type
/// refuses it, and libpq would cut a string off there.
public enum TextInput {
    /// True when `text` contains U+0000–U+001F, U+007F or U+0080–U+009F.
    public static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { s in s.value < 0x20 || (0x7F...0x9F).contains(s.value) }
    }

    /// True when a NUL (U+0000) appears anywhere in `value`, keys included.
    public static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): s.utf8.contains(0)
        case .array(let items): items.contains(where: containsNUL)
        case .object(let members): members.contains { $0.key.utf8.contains(0) || containsNUL($0.value) }
        case .null, .bool, .int, .double: false
        }
    }
}
