#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Roles, their permissions and assignments, in a tenant's schema.
public struct RoleStore: Sendable {
    public init() {}

    /// The two columns `stored_roles` and `stored_permissions`: the role names of the user whose
    /// id is the SQL expression `user`, and the union of their permissions, sorted. Written once,
    /// here; every statement that reads a user's roles along with other rows embeds it.
    static func storedRolesColumns(user: String) -> String {
        // Aliases of their own: the embedding statement's aliases (`u`, `r`, `s` …) stay visible.
        """
        coalesce((SELECT array_agg(DISTINCT role_.name ORDER BY role_.name) FROM user_roles link_ JOIN roles role_ ON role_.id = link_.role_id
                  WHERE link_.user_id = \(user)), '{}') AS stored_roles,
        coalesce((SELECT array_agg(DISTINCT perm_ ORDER BY perm_) FROM user_roles link_ JOIN roles role_ ON role_.id = link_.role_id,
                  unnest(role_.permissions) perm_ WHERE link_.user_id = \(user)), '{}') AS stored_permissions
        """
    }

    /// Reads what `storedRolesColumns` selected.
    static func storedRoles(_ row: PGRow) throws -> (roles: [String], permissions: [String]) {
        (try row.decode("stored_roles"), try row.decode("stored_permissions"))
    }

    /// The user's role names and the union of their permissions, sorted.
    public func rolesAndPermissions(userID: UUID, on db: some PGQueryable) async throws -> (roles: [String], permissions: [String]) {
        let rows = try await db.query("SELECT \(Self.storedRolesColumns(user: "$1"))", userID)
        guard let row = rows.first else { return ([], []) }
        return try Self.storedRoles(row)
    }

    /// Permissions granted by the named roles (for a custom `resolveRoles`).
    public func permissions(ofRoles roles: [String], on db: some PGQueryable) async throws -> [String] {
        guard !roles.isEmpty else { return [] }
        let rows = try await db.query(
            "SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}') AS permissions FROM roles, unnest(permissions) p WHERE name = ANY($1)",
            roles)
        return try rows.first?.decode("permissions", as: [String].self) ?? []
    }

    /// Assigns roles by name, creating roles that do not exist yet (with no permissions).
    public func assign(_ roles: [String], to userID: UUID, on db: some PGQueryable) async throws {
        guard !roles.isEmpty else { return }
        try await db.query("INSERT INTO roles (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING", roles)
        try await db.query(
            "INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM roles WHERE name = ANY($2) ON CONFLICT DO NOTHING",
            userID, roles)
    }

    /// Creates or updates a role with its permissions.
    public func upsert(_ name: String, permissions: [String], on db: some PGQueryable) async throws {
        try await db.query(
            """
            INSERT INTO roles (name, permissions) VALUES ($1, $2)
            ON CONFLICT (name) DO UPDATE SET permissions = excluded.permissions, updated_at = now()
            """, name, permissions)
    }
}
