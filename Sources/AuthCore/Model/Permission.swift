#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// An entry of a tenant's permission registry (`<tenant>.permissions`): the names roles may
/// grant, grouped by category. Built-in (`isSystem`) entries are the `auth.*` permissions the
/// admin API checks; they can be neither renamed nor deleted.
public struct Permission: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var guard_: String
    public var category: String?
    public var description: String?
    public var isSystem: Bool
    public var createdAt: Date

    /// What a permission name may be: 1–255 of letters, digits and `_ . : * -` (the table's CHECK).
    public static func isValidName(_ name: String) -> Bool {
        (1...255).contains(name.utf8.count) && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x3A
                || c == 0x2A || c == 0x2D
        }
    }

    static let columns = "id, name, guard, category, description, is_system, created_at"

    /// The permission that opens the tenant admin API.
    public static let admin = "auth.admin"

    /// The built-in permissions every tenant is seeded with (the migration's list; a test keeps
    /// the two equal): the powers of the admin API, which no admin may hand out without
    /// holding them. The application's own permissions are the tenant admins' to grant.
    public static let builtIn: Set<String> = [
        "auth.admin", "auth.users.read", "auth.users.write", "auth.sessions.read", "auth.sessions.revoke", "auth.roles.read",
        "auth.roles.write", "auth.audit.read", "auth.events.read", "auth.events.retry", "auth.settings.write", "users.invite",
    ]

    init(row: PGRow) throws {
        id = try row.decode("id")
        name = try row.decode("name")
        guard_ = try row.decode("guard")
        category = try row.decode("category", as: String?.self)
        description = try row.decode("description", as: String?.self)
        isSystem = try row.decode("is_system")
        createdAt = try row.decode("created_at")
    }

    public var json: JSONObject {
        [
            "id": .string(id.uuidString.lowercased()), "name": .string(name), "guard": .string(guard_),
            "category": category.map(JSONValue.string) ?? .null, "description": description.map(JSONValue.string) ?? .null,
            "isSystem": .bool(isSystem), "createdAt": .string(ISO8601.format(createdAt)),
        ]
    }
}
