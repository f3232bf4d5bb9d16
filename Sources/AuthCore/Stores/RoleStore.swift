#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Roles, their permissions and assignments, and the permission registry, in a tenant's schema.
/// Roles are named in tokens by `Role.reference` (`name`, or `guard:name` outside `web`); only
/// active roles grant anything.
public struct RoleStore: Sendable {
    public init() {}

    /// The SQL expression of a role's reference, for the alias `r`.
    static func referenceExpression(_ r: String) -> String {
        "CASE WHEN \(r).guard = '\(Role.defaultGuard)' THEN \(r).name ELSE \(r).guard || ':' || \(r).name END"
    }

    /// The two columns `stored_roles` and `stored_permissions`: the references of the active
    /// roles of the user whose id is the SQL expression `user`, and the union of their
    /// permissions, sorted. Written once, here; every statement that reads a user's roles along
    /// with other rows embeds it.
    static func storedRolesColumns(user: String) -> String {
        // Aliases of their own: the embedding statement's aliases (`u`, `r`, `s` …) stay visible.
        """
        coalesce((SELECT array_agg(DISTINCT \(referenceExpression("role_")) ORDER BY \(referenceExpression("role_")))
                  FROM user_roles link_ JOIN roles role_ ON role_.id = link_.role_id
                  WHERE link_.user_id = \(user) AND role_.is_active), '{}') AS stored_roles,
        coalesce((SELECT array_agg(DISTINCT perm_ ORDER BY perm_) FROM user_roles link_ JOIN roles role_ ON role_.id = link_.role_id,
                  unnest(role_.permissions) perm_ WHERE link_.user_id = \(user) AND role_.is_active), '{}') AS stored_permissions
        """
    }

    /// Reads what `storedRolesColumns` selected.
    static func storedRoles(_ row: PGRow) throws -> (roles: [String], permissions: [String]) {
        (try row.decode("stored_roles"), try row.decode("stored_permissions"))
    }

    /// The user's role references and the union of their permissions, sorted.
    public func rolesAndPermissions(userID: UUID, on db: some PGQueryable) async throws -> (roles: [String], permissions: [String]) {
        let rows = try await db.query("SELECT \(Self.storedRolesColumns(user: "$1"))", userID)
        guard let row = rows.first else { return ([], []) }
        return try Self.storedRoles(row)
    }

    /// Permissions granted by the referenced active roles (for a custom `resolveRoles`).
    public func permissions(ofRoles roles: [String], on db: some PGQueryable) async throws -> [String] {
        guard !roles.isEmpty else { return [] }
        let rows = try await db.query(
            """
            SELECT coalesce(array_agg(DISTINCT p ORDER BY p), '{}') AS permissions FROM roles r, unnest(r.permissions) p
            WHERE r.is_active AND \(Self.referenceExpression("r")) = ANY($1)
            """, roles)
        return try rows.first?.decode("permissions", as: [String].self) ?? []
    }

    /// Assigns roles by reference, creating roles that do not exist yet (with no permissions).
    public func assign(_ roles: [String], to userID: UUID, on db: some PGQueryable) async throws {
        guard !roles.isEmpty else { return }
        let (guards, names) = Self.split(roles)
        try await db.query(
            "INSERT INTO roles (guard, name) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT (name, guard) DO NOTHING", guards, names)
        try await db.query(
            """
            INSERT INTO user_roles (user_id, role_id)
            SELECT $1, r.id FROM roles r JOIN unnest($2::text[], $3::text[]) AS want(guard, name) USING (guard, name)
            ON CONFLICT DO NOTHING
            """, userID, guards, names)
    }

    /// Replaces the user's roles with the referenced existing ones; throws `ROLE_NOT_FOUND`
    /// naming a reference that is not a role. True when the set changed.
    @discardableResult
    public func setRoles(_ roles: [String], of userID: UUID, on db: some PGQueryable) async throws -> Bool {
        let (guards, names) = Self.split(roles)
        let rows = try await db.query(
            """
            WITH want AS (SELECT * FROM unnest($2::text[], $3::text[]) AS w(guard, name)),
            missing AS (SELECT w.guard, w.name FROM want w LEFT JOIN roles r USING (guard, name) WHERE r.id IS NULL),
            target AS (SELECT r.id FROM roles r JOIN want USING (guard, name)),
            removed AS (
                DELETE FROM user_roles WHERE user_id = $1 AND role_id NOT IN (SELECT id FROM target)
                  AND NOT EXISTS (SELECT 1 FROM missing) RETURNING 1),
            added AS (
                INSERT INTO user_roles (user_id, role_id) SELECT $1, id FROM target WHERE NOT EXISTS (SELECT 1 FROM missing)
                ON CONFLICT DO NOTHING RETURNING 1)
            SELECT (SELECT min(CASE WHEN guard = '\(Role.defaultGuard)' THEN name ELSE guard || ':' || name END) FROM missing) AS missing,
                   (SELECT count(*) FROM removed) + (SELECT count(*) FROM added) AS changed
            """, userID, guards, names)
        if let missing = try rows.first?.decode("missing", as: String?.self) {
            throw AuthError(.roleNotFound, message: "Role not found: \(missing)")
        }
        return try (rows.first?.decode("changed", as: Int.self) ?? 0) > 0
    }

    /// Creates or updates the referenced role with its permissions.
    public func upsert(_ reference: String, permissions: [String], on db: some PGQueryable) async throws {
        let (g, name) = Role.parse(reference: reference)
        try await db.query(
            """
            INSERT INTO roles (guard, name, permissions) VALUES ($1, $2, $3)
            ON CONFLICT (name, guard) DO UPDATE SET permissions = excluded.permissions, updated_at = now()
            """, g, name, permissions)
    }

    private static func split(_ references: [String]) -> (guards: [String], names: [String]) {
        let parsed = references.map(Role.parse(reference:))
        return (parsed.map(\.guard), parsed.map(\.name))
    }
}
