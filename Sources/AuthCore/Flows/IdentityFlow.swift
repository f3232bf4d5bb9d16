#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The caller's linked identities (API.md `GET /auth/identities`, `DELETE /auth/identities/:id`).
/// Unlinking needs a recent proof of the session's owner (like API keys and MFA changes) and is
/// refused when it would leave the account no way to log in (`LAST_LOGIN_METHOD`): a password,
/// another provider, or a passwordless code to an address the account has.
public struct IdentityFlow: Sendable {
    let env: AuthEnvironment
    let store = IdentityStore()

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func list(_ principal: Principal) async throws -> [JSONObject] {
        try await env.db.tenantStatements(principal.tenant) { try await store.list(userID: principal.user.id, on: $0) }.map(\.json)
    }

    /// 409 `LAST_LOGIN_METHOD` unless the user (row locked by the caller) has a way to log in
    /// besides the one about to go: a password, a provider, a passkey, or a passwordless code to
    /// an address on the account.
    func requireAnotherWayIn(_ user: User, tenant: Tenant, tx: PGTransaction) async throws {
        let passwordless = env.settings(for: tenant).passwordlessEnabled && (user.email != nil || user.phone != nil) ? 1 : 0
        guard try await store.loginMethods(userID: user.id, on: tx) + passwordless > 1 else { throw AuthError(.lastLoginMethod) }
    }

    /// 404 `IDENTITY_NOT_FOUND` for an identity that is not the caller's.
    public func unlink(_ principal: Principal, id: UUID) async throws {
        try await env.db.inTenant(principal.tenant) { tx in
            try await ReauthenticationFlow(env: env).requireRecent(principal, tx: tx)
            // Locks the user row: two unlinks at once are counted one after the other.
            guard let user = try await env.users.find(id: principal.user.id, forUpdate: true, on: tx) else { throw AuthError.userNotFound }
            guard let identity = try await store.list(userID: user.id, on: tx).first(where: { $0.id == id }) else {
                throw AuthError(.identityNotFound)
            }
            guard identity.provider != "email", identity.provider != "phone" else { throw AuthError(.identityNotUnlinkable) }
            try await requireAnotherWayIn(user, tenant: principal.tenant, tx: tx)
            _ = try await store.delete(id: id, userID: user.id, on: tx)
            try await env.outbox.append(
                AuthEvent(
                    .identityUnlinked, tenantID: principal.tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: ["identityId": .string(id.uuidString.lowercased()), "provider": .string(identity.provider)]),
                in: tx)
        }
    }
}
