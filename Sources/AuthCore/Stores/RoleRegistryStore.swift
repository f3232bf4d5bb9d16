#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The admin side of roles and permissions in a tenant's schema: the registry's rows as the
/// admin API lists, creates, changes and deletes them. Seeded (system) rows are protected here,
/// in the statements' WHERE clauses, not by the caller's care.
public struct RoleRegistryStore: Sendable {
    public init() {}

    public func roles(on db: some PGQueryable) async throws -> [Role] {
        try await db.query("SELECT \(Role.columns) FROM roles ORDER BY guard, name LIMIT 1000").map(Role.init(row:))
    }

    public func role(id: UUID, on db: some PGQueryable) async throws -> Role? {
        try await db.query("SELECT \(Role.columns) FROM roles WHERE id = $1", id).first.map(Role.init(row:))
    }

    public func role(reference: String, on db: some PGQueryable) async throws -> Role? {
        let (g, name) = Role.parse(reference: reference)
        return try await db.query("SELECT \(Role.columns) FROM roles WHERE guard = $1 AND name = $2", g, name).first.map(Role.init(row:))
    }

    /// Creates a role; `ROLE_ALREADY_EXISTS` when its name is taken in its guard, and
    /// `INVALID_INPUT` naming the first permission that is not in the registry of that guard.
    public func createRole(name: String, guard: String, description: String?, permissions: [String], on db: some PGQueryable) async throws -> Role {
        try await checkRegistered(permissions, guard: `guard`, on: db)
        let rows = try await db.query(
            """
            INSERT INTO roles (name, guard, description, permissions) VALUES ($1, $2, $3, $4)
            ON CONFLICT (name, guard) DO NOTHING RETURNING \(Role.columns)
            """, name, `guard`, description, permissions)
        guard let row = rows.first else { throw AuthError(.roleAlreadyExists) }
        return try Role(row: row)
    }

    /// Changes what may change (description, permissions, active flag); a system role cannot be
    /// deactivated. Returns the role before and after.
    public func updateRole(
        id: UUID, description: String??, permissions: [String]?, isActive: Bool?, on db: some PGQueryable
    ) async throws -> (before: Role, after: Role) {
        guard let before = try await db.query("SELECT \(Role.columns) FROM roles WHERE id = $1 FOR UPDATE", id).first.map(Role.init(row:)) else {
            throw AuthError(.roleNotFound)
        }
        if isActive == false, before.isSystem { throw AuthError(.systemRoleProtected) }
        if let permissions { try await checkRegistered(permissions, guard: before.guard_, on: db) }
        let rows = try await db.query(
            """
            UPDATE roles SET description = CASE WHEN $2 THEN $3 ELSE description END,
                permissions = coalesce($4, permissions), is_active = coalesce($5, is_active), updated_at = now()
            WHERE id = $1 RETURNING \(Role.columns)
            """, id, description != nil, description ?? nil, permissions, isActive)
        guard let row = rows.first else { throw AuthError(.roleNotFound) }
        return (before, try Role(row: row))
    }

    /// Deletes a non-system role (its assignments go with it); returns the ids of the users who
    /// held it.
    public func deleteRole(id: UUID, on db: some PGQueryable) async throws -> (role: Role, holders: [UUID]) {
        guard let role = try await db.query("SELECT \(Role.columns) FROM roles WHERE id = $1 FOR UPDATE", id).first.map(Role.init(row:)) else {
            throw AuthError(.roleNotFound)
        }
        if role.isSystem { throw AuthError(.systemRoleProtected) }
        let holders = try await holders(of: id, on: db)
        try await db.query("DELETE FROM roles WHERE id = $1", id)
        return (role, holders)
    }

    /// The users holding a role.
    public func holders(of roleID: UUID, on db: some PGQueryable) async throws -> [UUID] {
        try await db.query("SELECT user_id FROM user_roles WHERE role_id = $1", roleID).map { try $0.decode("user_id") }
    }

    public func permissions(category: String?, search: String?, on db: some PGQueryable) async throws -> [Permission] {
        try await db.query(
            """
            SELECT \(Permission.columns) FROM permissions
            WHERE ($1::text IS NULL OR category = $1)
              AND ($2::text IS NULL OR strpos(lower(name), lower($2)) > 0 OR strpos(lower(coalesce(description, '')), lower($2)) > 0)
            ORDER BY guard, category NULLS LAST, name LIMIT 1000
            """, category, search
        ).map(Permission.init(row:))
    }

    public func createPermission(name: String, guard: String, category: String?, description: String?, on db: some PGQueryable) async throws
        -> Permission
    {
        let rows = try await db.query(
            """
            INSERT INTO permissions (name, guard, category, description) VALUES ($1, $2, $3, $4)
            ON CONFLICT (name, guard) DO NOTHING RETURNING \(Permission.columns)
            """, name, `guard`, category, description)
        guard let row = rows.first else { throw AuthError(.permissionAlreadyExists) }
        return try Permission(row: row)
    }

    /// Deletes a non-system permission and takes it out of every role of its guard; returns it
    /// and the roles that granted it.
    public func deletePermission(id: UUID, on db: some PGQueryable) async throws -> (permission: Permission, roles: [UUID]) {
        guard let permission = try await db.query("SELECT \(Permission.columns) FROM permissions WHERE id = $1 FOR UPDATE", id).first
            .map(Permission.init(row:))
        else { throw AuthError(.permissionNotFound) }
        if permission.isSystem { throw AuthError(.systemRoleProtected) }
        let roles: [UUID] = try await db.query(
            """
            UPDATE roles SET permissions = array_remove(permissions, $1), updated_at = now()
            WHERE guard = $2 AND $1 = ANY(permissions) RETURNING id
            """, permission.name, permission.guard_
        ).map { try $0.decode("id") }
        try await db.query("DELETE FROM permissions WHERE id = $1", id)
        return (permission, roles)
    }

    /// `INVALID_INPUT` naming the first of `permissions` not registered in `guard`.
    private func checkRegistered(_ permissions: [String], guard: String, on db: some PGQueryable) async throws {
        guard !permissions.isEmpty else { return }
        let rows = try await db.query(
            "SELECT min(p) AS unknown FROM unnest($1::text[]) p WHERE NOT EXISTS (SELECT 1 FROM permissions WHERE name = p AND guard = $2)",
            permissions, `guard`)
        if let unknown = try rows.first?.decode("unknown", as: String?.self) {
            throw AuthError.invalidInput("permissions", "\(unknown) is not a registered permission")
        }
    }
}
