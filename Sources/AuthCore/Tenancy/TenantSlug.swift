/// A validated tenant slug: `^[a-z0-9]+(-[a-z0-9]+)*$`, 1–63 characters.
///
/// Slugs are user input and are never used to build SQL identifiers (schema names come from
/// the tenant id); the validation still keeps quotes, spaces and `;` out of the registry.
public struct TenantSlug: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    /// The slug of the tenant `authd migrate` creates.
    public static let defaultTenant = TenantSlug(unchecked: "default")

    /// Validates `raw`; throws 400 `INVALID_SLUG_FORMAT` with the reason.
    public init(_ raw: String) throws {
        guard !raw.isEmpty else { throw AuthError.invalidSlug("slug must not be empty") }
        guard raw.utf8.count <= 63 else { throw AuthError.invalidSlug("slug must be at most 63 characters") }
        var previousWasHyphen = true  // a leading hyphen is refused like a doubled one
        for byte in raw.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                previousWasHyphen = false
            case UInt8(ascii: "-") where !previousWasHyphen:
                previousWasHyphen = true
            default:
                throw AuthError.invalidSlug(
                    "slug may contain only lowercase letters, digits and single hyphens between them")
            }
        }
        guard !previousWasHyphen else { throw AuthError.invalidSlug("slug must not end with a hyphen") }
        self.value = raw
    }

    private init(unchecked: String) { value = unchecked }

    public var description: String { value }
}
