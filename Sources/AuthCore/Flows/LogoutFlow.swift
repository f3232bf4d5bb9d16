import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `POST /auth/logout`: revokes the caller's session (if any) and records `auth.logged_out`.
/// Always succeeds for the client: logging out twice, or with no valid token, is not an error.
public struct LogoutFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    public func run(_ principal: Principal?) async throws {
        guard let principal else { return }
        try await revoke(sessionID: principal.session.id, tenant: principal.tenant, refreshDigest: nil)
    }

    /// Logout when the guard cannot run (access token expired, user disabled, hook rejection):
    /// an authentic access token, even expired, or a refresh token still ends its session.
    public func run(expiredAccess: AccessTokenClaims?, refreshToken: RefreshToken?) async throws {
        if let claims = expiredAccess, let tenantID = UUID(uuidString: claims.tenantID),
           let sessionID = UUID(uuidString: claims.sessionID), let tenant = try? await env.tenants.resolve(id: tenantID)
        {
            try await revoke(sessionID: sessionID, tenant: tenant, refreshDigest: nil)
        } else if let token = refreshToken, let tenant = try? await env.tenants.resolve(id: token.tenantID) {
            try await revoke(sessionID: token.sessionID, tenant: tenant, refreshDigest: token.digest)
        }
    }

    /// Revokes a session; with `refreshDigest`, only if it is the session's current or previous
    /// refresh token (an older copy proves nothing about who holds the session now).
    private func revoke(sessionID: UUID, tenant: Tenant, refreshDigest: [UInt8]?) async throws {
        try await env.registry.withTenantTransaction(tenant) { tx in
            if let refreshDigest {
                guard let state = try await env.sessions.lockForRefresh(sessionID: sessionID, in: tx),
                      state.currentDigest == refreshDigest || state.previousDigest == refreshDigest
                else { return }
            }
            guard let session = try await env.sessions.revoke(sessionID: sessionID, reason: "logout", in: tx) else { return }
            try await env.outbox.append(
                AuthEvent(
                    .loggedOut, tenantID: tenant.id, actor: AuthEvent.user(session.userID),
                    subject: AuthEvent.session(session.id, user: session.userID)), in: tx)
            try await SessionOpener(env: env).revoked(session, reason: "logout", tenant: tenant, tx: tx)
        }
    }
}
