#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// A role of one tenant (row of `<tenant>.roles`): a name within a guard namespace, the
/// permissions it grants, and whether it is a seeded system role (neither renamed nor deleted)
/// and active (an inactive role grants nothing).
///
/// In tokens and session snapshots a role appears by its `reference`: the bare name in the
/// default `web` guard, `<guard>:<name>` in any other — so a portal's `admin` is never taken for
/// the web application's `admin`, and a requirement names the guard it expects.
public struct Role: Sendable, Equatable {
    public static let defaultGuard = "web"
    /// Seeded in every tenant: holds every built-in permission.
    public static let tenantAdmin = "tenant_admin"
    /// Seeded in every tenant: holds none.
    public static let member = "member"

    public var id: UUID
    public var name: String
    public var guard_: String
    public var description: String?
    public var permissions: [String]
    public var isSystem: Bool
    public var isActive: Bool
    public var createdAt: Date
    public var updatedAt: Date

    /// How tokens name the role.
    public var reference: String { Self.reference(name: name, guard: guard_) }

    public static func reference(name: String, guard g: String) -> String {
        g == defaultGuard ? name : "\(g):\(name)"
    }

    /// The guard and name of a reference (`editor` → web/editor, `portal:admin` → portal/admin).
    public static func parse(reference: String) -> (guard: String, name: String) {
        guard let colon = reference.firstIndex(of: ":") else { return (defaultGuard, reference) }
        return (String(reference[..<colon]), String(reference[reference.index(after: colon)...]))
    }

    /// What a role name may be: 1–64 of letters, digits and `_ . -` (the table's CHECK).
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x2D
        }
    }

    /// What a guard may be: 1–32 of lower-case letters, digits and `_ -`.
    public static func isValidGuard(_ g: String) -> Bool {
        (1...32).contains(g.utf8.count) && g.utf8.allSatisfy { c in (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D }
    }

    static let columns = """
        id, name, guard, description, permissions, is_system, is_active, created_at, updated_at
        """

    init(row: PGRow) throws {
        id = try row.decode("id")
        name = try row.decode("name")
        guard_ = try row.decode("guard")
        description = try row.decode("description", as: String?.self)
        permissions = try row.decode("permissions")
        isSystem = try row.decode("is_system")
        isActive = try row.decode("is_active")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
    }

    /// The admin API's view.
    public var json: JSONObject {
        [
            "id": .string(id.uuidString.lowercased()), "name": .string(name), "guard": .string(guard_),
            "reference": .string(reference), "description": description.map(JSONValue.string) ?? .null,
            "permissions": .array(permissions.map(JSONValue.string)), "isSystem": .bool(isSystem), "isActive": .bool(isActive),
            "createdAt": .string(ISO8601.format(createdAt)), "updatedAt": .string(ISO8601.format(updatedAt)),
        ]
    }
}
