#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The tenant admin API's roles and permissions (reference §1.3): each change in one transaction
/// with its event (and so its audit row). A change of what a role grants reaches its holders'
/// tokens at their next refresh, or at once when `revokeSessionsOnRoleChange` is set.
public struct AdminRoleFlow: Sendable {
    let env: AuthEnvironment
    let store = RoleRegistryStore()

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func roles(_ principal: Principal) async throws -> [JSONObject] {
        try await env.db.tenantStatements(principal.tenant) { try await store.roles(on: $0) }.map(\.json)
    }

    public func role(_ principal: Principal, id: UUID) async throws -> JSONObject {
        guard let role = try await env.db.tenantStatements(principal.tenant, { try await store.role(id: id, on: $0) }) else {
            throw AuthError(.roleNotFound)
        }
        return role.json
    }

    public func createRole(_ principal: Principal, name: String, guard g: String, description: String?, permissions: [String]) async throws
        -> JSONObject
    {
        try await env.db.inTenant(principal.tenant) { tx in
            let role = try await store.createRole(name: name, guard: g, description: description, permissions: permissions, on: tx)
            try await event(.roleCreated, role, principal: principal, tx: tx)
            return role.json
        }
    }

    public func updateRole(_ principal: Principal, id: UUID, description: String??, permissions: [String]?, isActive: Bool?) async throws
        -> JSONObject
    {
        try await env.db.inTenant(principal.tenant) { tx in
            let (before, after) = try await store.updateRole(id: id, description: description, permissions: permissions, isActive: isActive, on: tx)
            try await event(.roleUpdated, after, principal: principal, tx: tx)
            if before.permissions != after.permissions || before.isActive != after.isActive {
                try await endSessions(of: try await store.holders(of: id, on: tx), principal: principal, tx: tx)
            }
            return after.json
        }
    }

    public func deleteRole(_ principal: Principal, id: UUID) async throws {
        try await env.db.inTenant(principal.tenant) { tx in
            let (role, holders) = try await store.deleteRole(id: id, on: tx)
            try await event(.roleDeleted, role, principal: principal, tx: tx)
            try await endSessions(of: holders, principal: principal, tx: tx)
        }
    }

    public func permissions(_ principal: Principal, category: String?, search: String?) async throws -> [JSONObject] {
        try await env.db.tenantStatements(principal.tenant) { try await store.permissions(category: category, search: search, on: $0) }.map(\.json)
    }

    public func createPermission(_ principal: Principal, name: String, guard g: String, category: String?, description: String?)
        async throws -> JSONObject
    {
        try await env.db.inTenant(principal.tenant) { tx in
            let permission = try await store.createPermission(name: name, guard: g, category: category, description: description, on: tx)
            try await env.outbox.append(
                AuthEvent(.permissionCreated, tenantID: principal.tenant.id, data: ["permission": .object(permission.json)]), in: tx)
            return permission.json
        }
    }

    /// Deletes a permission and takes it out of every role of its guard.
    public func deletePermission(_ principal: Principal, id: UUID) async throws {
        try await env.db.inTenant(principal.tenant) { tx in
            let (permission, roles) = try await store.deletePermission(id: id, on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .permissionDeleted, tenantID: principal.tenant.id,
                    data: ["permission": .object(permission.json), "roles": .array(roles.map { .string($0.uuidString.lowercased()) })]),
                in: tx)
            var holders: Set<UUID> = []
            for role in roles { holders.formUnion(try await store.holders(of: role, on: tx)) }
            try await endSessions(of: Array(holders), principal: principal, tx: tx)
        }
    }

    private func event(_ name: AuthEvent.Name, _ role: Role, principal: Principal, tx: PGTransaction) async throws {
        try await env.outbox.append(AuthEvent(name, tenantID: principal.tenant.id, data: ["role": .object(role.json)]), in: tx)
    }

    /// With `revokeSessionsOnRoleChange`, the holders' sessions end now (else: next refresh).
    private func endSessions(of users: [UUID], principal: Principal, tx: PGTransaction) async throws {
        guard env.settings.revokeSessionsOnRoleChange else { return }
        for user in users {
            _ = try await SessionOpener(env: env).revokeAll(userID: user, reason: "roles_changed", tenant: principal.tenant, tx: tx)
        }
    }
}
