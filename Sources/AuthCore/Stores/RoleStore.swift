#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Roles, their permissions and assignments, inside a tenant transaction.
public struct RoleStore: Sendable {
    public init() {}

    /// The user's role names and the union of their permissions, sorted.
    public func rolesAndPermissions(userID: UUID, in db: some PGQueryable) async throws -> (roles: [String], permissions: [String]) {
        let rows = try await db.query(
            """
            SELECT coalesce(array_agg(DISTINCT r.name ORDER BY r.name), '{}') AS roles,
                   coalesce((SELECT array_agg(DISTINCT p ORDER BY p) FROM user_roles ur2 JOIN roles r2 ON r2.id = ur2.role_id,
                             unnest(r2.permissions) p WHERE ur2.user_id = $1), '{}') AS permissions
            FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = $1
            """, userID)
        guard let row = rows.first else { return ([], []) }
        return (try row.decode("roles"), try row.decode("permissions"))
    }

    /// Permissions granted by the named roles (for a custom `resolveRoles`).
    public func permissions(ofRoles roles: [String], in db: some PGQueryable) async throws -> [String] {
        guard !roles.isEmpty else { return [] }
        let rows = try await db.query(
            "SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}') AS permissions FROM roles, unnest(permissions) p WHERE name = ANY($1)",
            roles)
        return try rows.first?.decode("permissions", as: [String].self) ?? []
    }

    /// Assigns roles by name, creating roles that do not exist yet (with no permissions).
    public func assign(_ roles: [String], to userID: UUID, in tx: PGTransaction) async throws {
        guard !roles.isEmpty else { return }
        try await tx.query("INSERT INTO roles (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING", roles)
        try await tx.query(
            "INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = ANY($2) ON CONFLICT DO NOTHING",
            userID, roles)
    }

    /// Creates or updates a role with its permissions.
    public func upsert(_ name: String, permissions: [String], in tx: PGTransaction) async throws {
        try await tx.query(
            """
            INSERT INTO roles (name, permissions) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET permissions = excluded.permissions, updated_at = now()
            """, name, permissions)
    }
}
