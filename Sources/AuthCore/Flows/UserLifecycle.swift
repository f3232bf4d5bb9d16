#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PGKit

/// Creating, updating and deleting a user, each inside the caller's transaction with its hooks
/// (Swift first, then the SQL function bound to the same point) and its outbox event. A throw
/// anywhere rolls the whole change back. Used by signup now and the admin API later. `logger`:
/// the caller's (a request's carries its `request_id` and `tenant`).
public struct UserLifecycle: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// `user.beforeCreate` → INSERT (+ credential, roles) → `user.afterCreate` → `auth.user.created`.
    public func create(_ input: NewUser, passwordHash: String?, tenant: Tenant, tx: PGTransaction, logger: Logger? = nil) async throws -> User {
        let logger = logger ?? env.logger
        var new = input
        if let hook = env.hooks.user.beforeCreate { new = try await hook(new, tx) }
        if let changed = try await env.sqlHooks.call(
            .beforeCreate, tenant: tenant, payload: ["input": .object(Self.json(new))], in: tx, logger: logger)
        {
            new = try Self.apply(changed, to: new)
        }
        let user = try await env.users.insert(new, on: tx)
        if let passwordHash { try await env.credentials.insert(userID: user.id, passwordHash: passwordHash, on: tx) }
        try await env.roles.assign(new.roles, to: user.id, on: tx)
        if let hook = env.hooks.user.afterCreate { try await hook(user, new, tx) }
        _ = try await env.sqlHooks.call(
            .afterCreate, tenant: tenant, payload: ["user": .object(user.json), "input": .object(Self.json(new))], in: tx,
            logger: logger)
        try await env.outbox.append(
            AuthEvent(.userCreated, tenantID: tenant.id, subject: AuthEvent.user(user.id), data: ["user": .object(user.json)]),
            in: tx)
        return user
    }

    /// `user.beforeUpdate` → UPDATE → `user.afterUpdate` → `auth.user.updated`.
    public func update(userID: UUID, _ input: UserChanges, tenant: Tenant, tx: PGTransaction, logger: Logger? = nil) async throws -> User {
        let logger = logger ?? env.logger
        guard let current = try await env.users.find(id: userID, forUpdate: true, on: tx) else { throw AuthError.userNotFound }
        var changes = input
        if let hook = env.hooks.user.beforeUpdate { changes = try await hook(current, changes, tx) }
        _ = try await env.sqlHooks.call(
            .beforeUpdate, tenant: tenant, payload: ["user": .object(current.json)], in: tx, logger: logger)
        let updated = changes.isEmpty ? current : try await env.users.update(id: userID, changes, on: tx)
        if current.isActive, !updated.isActive {
            // A disabled user's sessions end now, everywhere (broadcast after COMMIT).
            try await SessionOpener(env: env).revokeAll(userID: userID, reason: "user_disabled", tenant: tenant, tx: tx)
        }
        if let hook = env.hooks.user.afterUpdate { try await hook(updated, changes, tx) }
        _ = try await env.sqlHooks.call(
            .afterUpdate, tenant: tenant, payload: ["user": .object(updated.json)], in: tx, logger: logger)
        try await env.outbox.append(
            AuthEvent(.userUpdated, tenantID: tenant.id, subject: AuthEvent.user(userID), data: ["user": .object(updated.json)]),
            in: tx)
        return updated
    }

    /// `user.beforeDelete` → DELETE (sessions go with it) → `user.afterDelete` → `auth.user.deleted`.
    public func delete(userID: UUID, tenant: Tenant, tx: PGTransaction, logger: Logger? = nil) async throws {
        let logger = logger ?? env.logger
        guard let user = try await env.users.find(id: userID, forUpdate: true, on: tx) else { throw AuthError.userNotFound }
        if let hook = env.hooks.user.beforeDelete { try await hook(user, tx) }
        _ = try await env.sqlHooks.call(.beforeDelete, tenant: tenant, payload: ["user": .object(user.json)], in: tx, logger: logger)
        // Revoked (recorded, evented, broadcast) before the rows go with the user.
        try await SessionOpener(env: env).revokeAll(userID: userID, reason: "user_deleted", tenant: tenant, tx: tx)
        try await env.users.delete(id: userID, on: tx)
        if let hook = env.hooks.user.afterDelete { try await hook(user, tx) }
        _ = try await env.sqlHooks.call(.afterDelete, tenant: tenant, payload: ["user": .object(user.json)], in: tx, logger: logger)
        try await env.outbox.append(AuthEvent(.userDeleted, tenantID: tenant.id, subject: AuthEvent.user(userID)), in: tx)
    }

    static func json(_ new: NewUser) -> JSONObject {
        [
            "email": new.email.map(JSONValue.string) ?? .null, "phone": new.phone.map(JSONValue.string) ?? .null,
            "isActive": .bool(new.isActive), "metadata": .object(new.metadata), "roles": .array(new.roles.map(JSONValue.string)),
        ]
    }

    /// What a SQL `beforeCreate` may change: the fields of `json(_:)`.
    static func apply(_ changed: JSONObject, to new: NewUser) throws -> NewUser {
        var out = new
        if let v = changed["email"] { out.email = v.stringValue.flatMap(Identifier.email) }
        if let v = changed["phone"] { out.phone = v.stringValue.flatMap(Identifier.phone) }
        if let v = changed["isActive"]?.boolValue { out.isActive = v }
        if case .object(let m)? = changed["metadata"] { out.metadata = m }
        if case .array(let r)? = changed["roles"] { out.roles = r.compactMap(\.stringValue) }
        return out
    }
}
