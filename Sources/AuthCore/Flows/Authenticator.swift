#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Who a guarded request acts as.
public struct Principal: Sendable {
    public let tenant: Tenant
    public let user: User
    public let session: Session
    public let claims: AccessTokenClaims
}

/// The guard of API.md, in its order: no credentials → `NO_AUTH_PROVIDED`; bad or expired token
/// → `INVALID_TOKEN` / `TOKEN_EXPIRED`; `guards.beforeAuth` rejects → 401 `ACCESS_DENIED`;
/// revoked or unknown session → `SESSION_NOT_FOUND`; inactive user → `ACCOUNT_INACTIVE`;
/// `guards.afterAuth` rejects → 403 `ACCESS_DENIED`.
public struct Authenticator: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// Authenticates an access token (already taken from the header or cookie).
    public func authenticate(accessToken: String?, request: AuthRequest) async throws -> Principal {
        guard let accessToken, !accessToken.isEmpty else { throw AuthError.noAuthProvided }
        let claims = try await env.tokens.verifyAccess(accessToken)
        if let hook = env.hooks.guards.beforeAuth {
            let decision = try await hook(request)
            if decision.reject { throw AuthError.accessDenied(decision.reason) }
        }
        guard let tenantID = UUID(uuidString: claims.tenantID), let sessionID = UUID(uuidString: claims.sessionID)
        else { throw AuthError.sessionNotFound }
        // Revoked anywhere and broadcast: refused without a database read.
        if let revocations = env.revocations, revocations.contains(sessionID) || revocations.tenantDeleted(tenantID) {
            throw AuthError.sessionNotFound
        }
        guard let tenant = try? await env.tenants.resolve(id: tenantID) else { throw AuthError.sessionNotFound }
        // With the revocation set in sync, a token seen before needs no database read.
        let synced = env.revocations?.isSynced == true
        let found: (Session, User)?
        if synced, let cached = env.principals.get(accessToken, now: Date()) {
            AuthMetrics.guardCacheHits.increment()
            found = cached
        } else {
            AuthMetrics.guardCacheMisses.increment()
            let sessions = env.sessions
            do {
                found = try await env.registry.withTenantReadTransaction(tenant) { conn in
                    try sessions.liveSessionWithUser(sessionID: sessionID, on: conn)
                }
            } catch let error as PGError where error.sqlState == "42P01" || error.sqlState == "3F000" {
                // The tenant's schema is gone (deleted a moment ago, not yet out of the cache).
                throw AuthError.sessionNotFound
            }
            if synced, let (session, user) = found, user.isActive {
                env.principals.put(
                    accessToken, session: session, user: user,
                    expiresAt: min(claims.expiresAt, session.expiresAt, session.idleExpiresAt))
            }
        }
        guard let (session, user) = found, user.id.uuidString.lowercased() == claims.subject else {
            throw AuthError.sessionNotFound
        }
        guard user.isActive else { throw AuthError.accountInactive }
        if let hook = env.hooks.guards.afterAuth {
            let decision = try await hook(request, user)
            if decision.reject { throw AuthError.accessDenied(decision.reason, status: 403) }
        }
        return Principal(tenant: tenant, user: user, session: session, claims: claims)
    }

    /// The caller's live sessions.
    public func sessions(of principal: Principal) async throws -> [Session] {
        try await env.registry.withTenantTransaction(principal.tenant) { tx in
            try await env.sessions.list(userID: principal.user.id, in: tx)
        }
    }

    /// Revokes one of the caller's own sessions; 404 `SESSION_NOT_FOUND` for anyone else's.
    public func revokeOwnSession(_ id: UUID, of principal: Principal) async throws {
        try await env.registry.withTenantTransaction(principal.tenant) { tx in
            let rows = try await tx.query("SELECT 1 FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL", id, principal.user.id)
            guard !rows.isEmpty, let session = try await env.sessions.revoke(sessionID: id, reason: "revoked_by_user", in: tx) else {
                throw AuthError(status: 404, code: "SESSION_NOT_FOUND", message: "Session not found")
            }
            try await SessionOpener(env: env).revoked(session, reason: "revoked_by_user", tenant: principal.tenant, tx: tx)
        }
    }

    /// The session user (`/auth/me`): the stored session snapshot's user, sensitive fields removed.
    public func sessionUser(of principal: Principal) -> JSONObject {
        SessionShaping.removing(env.hooks.user.sensitiveFields, from: principal.session.data["user"]?.objectValue ?? [:])
    }

    /// The user with roles (`/auth/user`).
    public func userWithRoles(of principal: Principal) async throws -> JSONObject {
        let (roles, permissions) = try await env.registry.withTenantTransaction(principal.tenant) { tx in
            try await env.roles.rolesAndPermissions(userID: principal.user.id, in: tx)
        }
        var user = principal.user.json
        user["roles"] = .array(roles.map(JSONValue.string))
        user["permissions"] = .array(permissions.map(JSONValue.string))
        user["tenantId"] = .string(principal.tenant.id.uuidString.lowercased())
        return SessionShaping.removing(env.hooks.user.sensitiveFields, from: user)
    }
}
