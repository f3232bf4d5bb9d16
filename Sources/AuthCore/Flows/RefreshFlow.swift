import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `POST /auth/refresh-token` (DESIGN.md §6). The token's tag is checked before any database
/// work; then, with the session row locked:
/// - the current token rotates: new generation, new pair, roles and session data re-resolved,
///   `auth.refresh_token`, `session.onRefreshed(old, new)` after COMMIT;
/// - the previous token within the grace window gets exactly the current token back (unsealed
///   with the presented token itself) and a fresh access token — no second live branch;
/// - any other tag-valid token (older generation, or the previous one after the window) is
///   reuse: the session is revoked and `auth.refresh_token_reuse_detected` committed before 401.
public struct RefreshFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    enum Outcome: Sendable {
        case issued(AuthResponse)
        case reuse
        case expired
    }

    public func run(_ presented: String, request: AuthRequest) async throws -> AuthResponse {
        do {
            return try await refresh(presented, request: request)
        } catch {
            throw env.mapError(error, context: "refresh")
        }
    }

    private func refresh(_ presented: String, request: AuthRequest) async throws -> AuthResponse {
        guard let token = env.tokens.parseRefresh(presented) else { throw AuthError.refreshTokenInvalid }
        guard let tenant = try? await env.tenants.resolve(id: token.tenantID) else { throw AuthError.refreshTokenInvalid }
        let shaping = SessionShaping(env: env)
        let outcome: Outcome = try await env.registry.withTenantTransaction(tenant) { tx in
            guard let (state, user, roles, permissions) = try await env.sessions.lockForRefreshWithUser(sessionID: token.sessionID, in: tx),
                  state.session.revokedAt == nil
            else { throw AuthError.refreshTokenInvalid }
            let stored = (roles: roles, permissions: permissions)
            let session = state.session
            let now = Date()
            guard session.isLive(at: now) else {
                if let revoked = try await env.sessions.revoke(sessionID: session.id, reason: "expired", in: tx) {
                    try await SessionOpener(env: env).revoked(revoked, reason: "expired", tenant: tenant, tx: tx)
                }
                return .expired
            }
            let digest = token.digest
            if token.generation == session.generation, digest == state.currentDigest {
                return .issued(try await rotate(token, session: session, user: user, stored: stored, tenant: tenant, tx: tx, shaping: shaping))
            }
            if token.generation == session.generation - 1, digest == state.previousDigest,
               let rotatedAt = state.rotatedAt, let sealed = state.sealedCurrent,
               now.timeIntervalSince(rotatedAt) <= env.settings.refreshGraceWindow.timeInterval,
               let current = try? token.unseal(sealed)
            {
                return .issued(try await replay(current: current, session: session, user: user, stored: stored, tenant: tenant, tx: tx, shaping: shaping))
            }
            // A genuine token that is no longer current: someone holds a copy. End the session.
            if let revoked = try await env.sessions.revoke(sessionID: session.id, reason: "refresh_token_reuse", in: tx) {
                try await env.outbox.append(
                    AuthEvent(
                        .refreshTokenReuseDetected, tenantID: tenant.id, subject: AuthEvent.session(session.id, user: session.userID),
                        data: [
                            "presentedGeneration": .int(token.generation), "currentGeneration": .int(session.generation),
                            "ip": request.ipAddress.map(JSONValue.string) ?? .null,
                        ]), in: tx)
                try await SessionOpener(env: env).revoked(revoked, reason: "refresh_token_reuse", tenant: tenant, tx: tx)
            }
            return .reuse
        }
        switch outcome {
        case .issued(let response): return response
        case .reuse: throw AuthError.refreshTokenInvalid
        case .expired: throw AuthError.refreshTokenExpired
        }
    }

    private func rotate(
        _ token: RefreshToken, session: Session, user: User, stored: (roles: [String], permissions: [String]), tenant: Tenant,
        tx: PGTransaction, shaping: SessionShaping
    ) async throws -> AuthResponse {
        guard user.isActive else { throw AuthError.refreshTokenInvalid }
        let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx, stored: stored)
        let next = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: session.id, generation: session.generation + 1)
        let rotated = try await env.sessions.rotate(
            sessionID: session.id, generation: next.generation, currentDigest: next.digest, previousDigest: token.digest,
            sealedCurrent: try token.seal(next: next), keyID: next.keyID, data: shape.sessionData,
            idleTimeout: env.settings.sessionIdleTimeout,
            event: AuthEvent(
                .refreshToken, tenantID: tenant.id, actor: AuthEvent.user(user.id),
                subject: AuthEvent.session(session.id, user: user.id), data: ["generation": .int(next.generation)]),
            in: tx)
        env.outbox.notifyAfterCommit(tx)
        let access = try await shaping.accessToken(session: rotated, user: user, tenant: tenant, shape: shape)
        if let hook = env.hooks.session.onRefreshed { env.afterCommit(tx) { await hook(session, rotated) } }
        return try await shaping.response(
            access: access, refresh: next.value, shape: shape, message: "Token refreshed successfully", context: "refresh")
    }

    /// The grace-window answer: the current refresh token as it is, a new access token, no writes.
    private func replay(
        current: String, session: Session, user: User, stored: (roles: [String], permissions: [String]), tenant: Tenant,
        tx: PGTransaction, shaping: SessionShaping
    ) async throws -> AuthResponse {
        guard user.isActive else { throw AuthError.refreshTokenInvalid }
        let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx, stored: stored)
        let access = try await shaping.accessToken(session: session, user: user, tenant: tenant, shape: shape)
        return try await shaping.response(
            access: access, refresh: current, shape: shape, message: "Token refreshed successfully", context: "refresh")
    }
}
