#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Creates and ends sessions inside a flow's transaction. Opening (signup, login) evicts the
/// least recently active sessions beyond `maxSessionsPerUser`, stores only the refresh token's
/// digest, and queues `session.onCreated` for after COMMIT; every revocation is recorded,
/// evented and broadcast the same way.
struct SessionOpener: Sendable {
    let env: AuthEnvironment

    struct Opened: Sendable {
        var session: Session
        var accessToken: String
        var refreshToken: RefreshToken
    }

    /// `event`, when given, is written with the session row (one round trip), named by its id.
    func open(
        user: User, tenant: Tenant, request: AuthRequest, shape: SessionShaping.Shape, tx: PGTransaction, mfaVerified: Bool = false,
        firstFactor: MFAMethod? = nil, event: ((UUID) -> AuthEvent)? = nil
    ) async throws -> Opened {
        let evicted = try await env.sessions.evictBeyond(userID: user.id, max: env.settings.maxSessionsPerUser, on: tx)
        for old in evicted { try await revoked(old, reason: "evicted", tenant: tenant, tx: tx) }
        let sessionID = UUID()
        let settings = env.settings(for: tenant)
        let refresh = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: sessionID, generation: 0)
        let session = try await env.sessions.create(
            id: sessionID, userID: user.id, data: shape.sessionData, request: request, refresh: refresh,
            idleTimeout: settings.sessionIdleTimeout, lifetime: settings.sessionAbsoluteLifetime, mfaVerified: mfaVerified,
            firstFactor: firstFactor?.rawValue,
            event: try event.map { try env.outbox.row($0(sessionID)) }, on: tx)
        if event != nil { env.outbox.notifyAfterCommit(tx) }
        let access = try await SessionShaping(env: env).accessToken(session: session, user: user, tenant: tenant, shape: shape)
        if let hook = env.hooks.session.onCreated { env.afterCommit(tx) { await HookTenant.$current.withValue(tenant) { await hook(session, user) } } }
        return Opened(session: session, accessToken: access, refreshToken: refresh)
    }

    /// Revokes every live session of a user (logout-all, disabling, deletion), recording each.
    @discardableResult
    func revokeAll(userID: UUID, reason: String, except kept: UUID? = nil, tenant: Tenant, tx: PGTransaction) async throws -> [Session] {
        let sessions = try await env.sessions.revokeAll(userID: userID, reason: reason, except: kept, on: tx)
        for session in sessions { try await revoked(session, reason: reason, tenant: tenant, tx: tx) }
        return sessions
    }

    /// Records a revoked session: kept in `auth.revocations` while its access tokens can still be
    /// presented, its event in the transaction, the broadcast and `session.onRevoked` after COMMIT.
    func revoked(_ session: Session, reason: String, tenant: Tenant, tx: PGTransaction) async throws {
        try await env.revocationRows.insert(
            sessionID: session.id, tenantID: tenant.id, keep: env.settings.accessTokenTTL + .seconds(60), on: tx)
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
        if let hook = env.hooks.session.onRevoked { env.afterCommit(tx) { await HookTenant.$current.withValue(tenant) { await hook(session, reason) } } }
    }
}
