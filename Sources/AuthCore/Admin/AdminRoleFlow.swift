#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The tenant admin API's roles and permissions (reference §1.3): each change in one transaction
/// with its event (and so its audit row). A change of what a role grants reaches its holders'
/// tokens at their next refresh, or at once when `revokeSessionsOnRoleChange` is set. No change
/// may take `auth.admin` from the tenant admin making it (409 `ADMIN_SELF_LOCKOUT`).
public struct AdminRoleFlow: Sendable {
    let env: AuthEnvironment
    let store = RoleRegistryStore()

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func roles(_ scope: AdminScope) async throws -> [JSONObject] {
        try await env.db.tenantStatements(scope.tenant) { try await store.roles(on: $0) }.map(\.json)
    }

    public func role(_ scope: AdminScope, id: UUID) async throws -> JSONObject {
        guard let role = try await env.db.tenantStatements(scope.tenant, { try await store.role(id: id, on: $0) }) else {
            throw AuthError(.roleNotFound)
        }
        return role.json
    }

    public func createRole(_ scope: AdminScope, name: String, guard g: String, description: String?, permissions: [String]) async throws
        -> JSONObject
    {
        try scope.requireHolding(permissions, "Granting these permissions")
        return try await env.db.inTenant(scope.tenant) { tx in
            let role = try await store.createRole(name: name, guard: g, description: description, permissions: permissions, on: tx)
            try await event(.roleCreated, role, scope: scope, tx: tx)
            return role.json
        }
    }

    public func updateRole(_ scope: AdminScope, id: UUID, description: String??, permissions: [String]?, isActive: Bool?) async throws
        -> JSONObject
    {
        try scope.requireHolding(permissions ?? [], "Granting these permissions")
        return try await env.db.inTenant(scope.tenant) { tx in
            if let current = try await store.role(id: id, on: tx) {
                try scope.requireHolding(current.permissions, "Changing this role")
                // tenant_admin is defined as every built-in permission: its list is not edited.
                if current.isSystem, current.name == Role.tenantAdmin, permissions != nil { throw AuthError(.systemRoleProtected) }
            }
            let (before, after) = try await SelfLockoutGuard.keepingOwnAdmin(scope, roles: env.roles, tx: tx) {
                try await store.updateRole(id: id, description: description, permissions: permissions, isActive: isActive, on: tx)
            }
            try await event(.roleUpdated, after, scope: scope, tx: tx)
            if before.permissions != after.permissions || before.isActive != after.isActive {
                try await endSessions(of: try await store.holders(of: id, on: tx), scope: scope, tx: tx)
            }
            return after.json
        }
    }

    public func deleteRole(_ scope: AdminScope, id: UUID) async throws {
        try await env.db.inTenant(scope.tenant) { tx in
            if let current = try await store.role(id: id, on: tx) { try scope.requireHolding(current.permissions, "Deleting this role") }
            let (role, holders) = try await SelfLockoutGuard.keepingOwnAdmin(scope, roles: env.roles, tx: tx) {
                try await store.deleteRole(id: id, on: tx)
            }
            try await event(.roleDeleted, role, scope: scope, tx: tx)
            try await endSessions(of: holders, scope: scope, tx: tx)
        }
    }

    public func permissions(_ scope: AdminScope, category: String?, search: String?) async throws -> [JSONObject] {
        try await env.db.tenantStatements(scope.tenant) { try await store.permissions(category: category, search: search, on: $0) }.map(\.json)
    }

    public func createPermission(_ scope: AdminScope, name: String, guard g: String, category: String?, description: String?)
        async throws -> JSONObject
    {
        try await env.db.inTenant(scope.tenant) { tx in
            let permission = try await store.createPermission(name: name, guard: g, category: category, description: description, on: tx)
            try await env.outbox.append(
                AuthEvent(.permissionCreated, tenantID: scope.tenant.id, data: ["permission": .object(permission.json)]), in: tx)
            return permission.json
        }
    }

    /// Deletes a permission and takes it out of every role of its guard.
    public func deletePermission(_ scope: AdminScope, id: UUID) async throws {
        try await env.db.inTenant(scope.tenant) { tx in
            let (permission, roles) = try await store.deletePermission(id: id, on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .permissionDeleted, tenantID: scope.tenant.id,
                    data: ["permission": .object(permission.json), "roles": .array(roles.map { .string($0.uuidString.lowercased()) })]),
                in: tx)
            var holders: Set<UUID> = []
            for role in roles { holders.formUnion(try await store.holders(of: role, on: tx)) }
            try await endSessions(of: Array(holders), scope: scope, tx: tx)
        }
    }

    private func event(_ name: AuthEvent.Name, _ role: Role, scope: AdminScope, tx: PGTransaction) async throws {
        try await env.outbox.append(AuthEvent(name, tenantID: scope.tenant.id, data: ["role": .object(role.json)]), in: tx)
    }

    /// With `revokeSessionsOnRoleChange`, the holders' sessions end now (else: next refresh).
    private func endSessions(of users: [UUID], scope: AdminScope, tx: PGTransaction) async throws {
        guard env.settings.revokeSessionsOnRoleChange else { return }
        for user in users {
            _ = try await SessionOpener(env: env).revokeAll(userID: user, reason: "roles_changed", tenant: scope.tenant, tx: tx)
        }
    }
}
