#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Creates a session with its first token pair inside a flow's transaction (signup, login):
/// evicts the least recently active sessions beyond `maxSessionsPerUser`, stores only the
/// refresh token's digest, and queues `session.onCreated` for after COMMIT.
struct SessionOpener: Sendable {
    let env: AuthEnvironment

    struct Opened: Sendable {
        var session: Session
        var accessToken: String
        var refreshToken: RefreshToken
    }

    /// `event`, when given, is written with the session row (one round trip), named by its id.
    func open(
        user: User, tenant: Tenant, request: AuthRequest, shape: SessionShaping.Shape, tx: PGTransaction,
        event: ((UUID) -> AuthEvent)? = nil
    ) async throws -> Opened {
        let evicted = try await env.sessions.evictBeyond(userID: user.id, max: env.settings.maxSessionsPerUser, in: tx)
        for old in evicted { try await revoked(old, reason: "evicted", tenant: tenant, tx: tx) }
        let sessionID = UUID()
        let refresh = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: sessionID, generation: 0)
        let session = try await env.sessions.create(
            id: sessionID, userID: user.id, data: shape.sessionData, request: request, refresh: refresh,
            idleTimeout: env.settings.sessionIdleTimeout, lifetime: env.settings.sessionAbsoluteLifetime,
            event: event?(sessionID), in: tx)
        if event != nil { env.outbox.notifyAfterCommit(tx) }
        let access = try await SessionShaping(env: env).accessToken(session: session, user: user, tenant: tenant, shape: shape)
        if let hook = env.hooks.session.onCreated { env.afterCommit(tx) { await hook(session, user) } }
        return Opened(session: session, accessToken: access, refreshToken: refresh)
    }

    /// Records a revoked session: its event in the transaction, `session.onRevoked` after COMMIT.
    func revoked(_ session: Session, reason: String, tenant: Tenant, tx: PGTransaction) async throws {
        // Kept while access tokens naming the session can still be presented.
        try await tx.query(
            """
            INSERT INTO auth.revocations (session_id, tenant_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
            ON CONFLICT (session_id) DO NOTHING
            """, session.id, tenant.id, env.settings.accessTokenTTL.timeInterval + 60)
        let (broadcaster, revocations) = (env.broadcaster, env.revocations)
        tx.afterCommit {
            AuthMetrics.sessionsRevoked.increment()
            revocations?.insert([session.id])
            broadcaster?.broadcast([session.id])
        }
        try await env.outbox.append(
            AuthEvent(
                .sessionRevoked, tenantID: tenant.id, subject: AuthEvent.session(session.id, user: session.userID),
                data: ["reason": .string(reason)]), in: tx)
        if let hook = env.hooks.session.onRevoked { env.afterCommit(tx) { await hook(session, reason) } }
    }
}
