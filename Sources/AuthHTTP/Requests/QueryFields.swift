import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// A request's query parameters read with the same checks as `JSONFields`: a value of the wrong
/// form is 400 `INVALID_INPUT` naming the parameter; absent or empty is nil.
struct QueryFields {
    let parameters: Parameters

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    func string(_ key: String, maxLength: Int = 255) throws -> String? {
        guard let raw = parameters[key[...]], !raw.isEmpty else { return nil }
        let s = String(raw)
        guard s.utf8.count <= maxLength else { throw AuthError.invalidInput(key, "is too long (at most \(maxLength) bytes)") }
        guard !TextInput.hasControlCharacters(s) else { throw AuthError.invalidInput(key, "must not contain control characters") }
        return s
    }

    func int(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let s = try string(key, maxLength: 20) else { return nil }
        guard let n = Int(s), range.contains(n) else { throw AuthError.invalidInput(key, "must be a whole number in \(range.lowerBound)…\(range.upperBound)") }
        return n
    }

    func uuid(_ key: String) throws -> UUID? {
        guard let s = try string(key, maxLength: 36) else { return nil }
        guard let id = UUID(uuidString: s) else { throw AuthError.invalidInput(key, "must be an id") }
        return id
    }

    func date(_ key: String) throws -> Date? {
        guard let s = try string(key, maxLength: 40) else { return nil }
        guard let date = ISO8601.parse(s) else { throw AuthError.invalidInput(key, "must be an ISO 8601 time") }
        return date
    }

    /// One of `allowed`.
    func choice(_ key: String, _ allowed: Set<String>) throws -> String? {
        guard let s = try string(key, maxLength: 32) else { return nil }
        guard allowed.contains(s) else { throw AuthError.invalidInput(key, "must be one of \(allowed.sorted().joined(separator: ", "))") }
        return s
    }
}
