import AuthCore

/// A request's JSON object read field by field, with the checks API.md promises: a field of the
/// wrong type, too long, or holding control characters is 400 `INVALID_INPUT` naming it (with
/// its path: `credentials.email`), never silently ignored or coerced. Absent and `null` are nil.
struct JSONFields {
    let object: JSONObject
    /// The path of this object inside the body ("" at the top, "credentials." inside).
    let prefix: String

    init(_ object: JSONObject, prefix: String = "") {
        self.object = object
        self.prefix = prefix
    }

    /// A text field. Control characters are refused unless `allowControl` (free text).
    func string(_ key: String, maxLength: Int = 1024) throws -> String? {
        guard let value = object[key], value != .null else { return nil }
        guard case .string(let s) = value else { throw AuthError.invalidInput(prefix + key, "must be a string") }
        guard s.utf8.count <= maxLength else { throw AuthError.invalidInput(prefix + key, "is too long (at most \(maxLength) bytes)") }
        guard !TextInput.hasControlCharacters(s) else { throw AuthError.invalidInput(prefix + key, "must not contain control characters") }
        return s
    }

    func bool(_ key: String) throws -> Bool? {
        guard let value = object[key], value != .null else { return nil }
        guard case .bool(let b) = value else { throw AuthError.invalidInput(prefix + key, "must be true or false") }
        return b
    }

    /// An array of strings, each checked as `string` checks one.
    func strings(_ key: String, maxCount: Int = 100, maxLength: Int = 255) throws -> [String]? {
        guard let value = object[key], value != .null else { return nil }
        guard case .array(let items) = value, items.count <= maxCount else {
            throw AuthError.invalidInput(prefix + key, "must be an array of at most \(maxCount) strings")
        }
        return try items.enumerated().map { i, item in
            guard let s = try JSONFields(["v": item]).string("v", maxLength: maxLength) else {
                throw AuthError.invalidInput("\(prefix)\(key)[\(i)]", "must be a string")
            }
            return s
        }
    }

    /// An object field's members (nil when absent or null).
    func members(_ key: String) throws -> JSONObject? {
        try object(key)?.object
    }

    func object(_ key: String) throws -> JSONFields? {
        guard let value = object[key], value != .null else { return nil }
        guard case .object(let o) = value else { throw AuthError.invalidInput(prefix + key, "must be an object") }
        return JSONFields(o, prefix: prefix + key + ".")
    }

    /// The members not in `known` (e.g. signup's profile fields, passed to hooks only).
    func rest(excluding known: Set<String>) -> JSONObject {
        object.filter { !known.contains($0.key) }
    }
}
