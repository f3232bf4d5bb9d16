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
///
/// Without shaping hooks the rotation of a current token is one autocommit statement (see
/// `SessionStore.rotateIfCurrent`), and the other common case, a replay, one transaction in one
/// pool-thread hop; anything else, and every case when hooks are set, takes the async path.
public struct RefreshFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// What the locked session row says about a presented token.
    enum Decision: Equatable {
        case rotate
        case replay(current: String)
        case reuse
        case expired
    }

    static func decide(_ token: RefreshToken, _ state: SessionStore.RefreshState, grace: Duration, now: Date) -> Decision {
        let session = state.session
        guard session.isLive(at: now) else { return .expired }
        let digest = token.digest
        if token.generation == session.generation, digest == state.currentDigest { return .rotate }
        if token.generation == session.generation - 1, digest == state.previousDigest, let rotatedAt = state.rotatedAt,
           let sealed = state.sealedCurrent, now.timeIntervalSince(rotatedAt) <= grace.timeInterval,
           let current = try? token.unseal(sealed)
        {
            return .replay(current: current)
        }
        return .reuse
    }

    enum Outcome: Sendable {
        case issued(AuthResponse)
        case reuse
        case expired
    }

    public func run(_ presented: String, request: AuthRequest) async throws -> AuthResponse {
        do {
            return try await AuthMetrics.count(AuthMetrics.refreshesSucceeded, AuthMetrics.refreshesFailed) {
                try await refresh(presented, request: request)
            }
        } catch {
            throw env.mapError(error, context: "refresh")
        }
    }

    private func refresh(_ presented: String, request: AuthRequest) async throws -> AuthResponse {
        guard let token = env.tokens.parseRefresh(presented) else { throw AuthError.refreshTokenInvalid }
        guard let tenant = try? await env.tenants.resolve(id: token.tenantID) else { throw AuthError.refreshTokenInvalid }
        let shaping = SessionShaping(env: env)
        if shaping.isPure, env.hooks.session.onRefreshed == nil,
           let response = try await oneStatement(token, tenant: tenant, shaping: shaping)
        {
            return response
        }
        if shaping.isPure, let response = try await fastPath(token, tenant: tenant, shaping: shaping) { return response }
        let outcome: Outcome = try await env.registry.withTenantTransaction(tenant) { tx in
            guard let (state, user, roles, permissions) = try await env.sessions.lockForRefreshWithUser(sessionID: token.sessionID, in: tx),
                  state.session.revokedAt == nil
            else { throw AuthError.refreshTokenInvalid }
            let stored = (roles: roles, permissions: permissions)
            let session = state.session
            switch Self.decide(token, state, grace: env.settings.refreshGraceWindow, now: Date()) {
            case .expired:
                if let revoked = try await env.sessions.revoke(sessionID: session.id, reason: "expired", in: tx) {
                    try await SessionOpener(env: env).revoked(revoked, reason: "expired", tenant: tenant, tx: tx)
                }
                return .expired
            case .rotate:
                guard user.isActive else { throw AuthError.refreshTokenInvalid }
                let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx, stored: stored)
                let (rotated, next) = try await rotate(token, session: session, user: user, tenant: tenant, shape: shape) { r in
                    try await env.sessions.rotate(r, in: tx)
                }
                afterRotation(old: session, new: rotated, tx: tx)
                return .issued(try await issue(session: rotated, user: user, tenant: tenant, shape: shape, refresh: next.value, shaping: shaping))
            case .replay(let current):
                guard user.isActive else { throw AuthError.refreshTokenInvalid }
                let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx, stored: stored)
                return .issued(try await issue(session: session, user: user, tenant: tenant, shape: shape, refresh: current, shaping: shaping))
            case .reuse:
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
        }
        switch outcome {
        case .issued(let response): return response
        case .reuse:
            AuthMetrics.refreshReuseDetected.increment()
            throw AuthError.refreshTokenInvalid
        case .expired: throw AuthError.refreshTokenExpired
        }
    }

    /// The rotation of the current token in one statement, the access token signed after it
    /// committed; nil when the statement matched nothing (nothing was written).
    private func oneStatement(_ token: RefreshToken, tenant: Tenant, shaping: SessionShaping) async throws -> AuthResponse? {
        let next = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: token.sessionID, generation: token.generation + 1)
        let rotation = SessionStore.Rotation(
            sessionID: token.sessionID, generation: next.generation, currentDigest: next.digest, previousDigest: token.digest,
            sealedCurrent: try token.seal(next: next), keyID: next.keyID, data: [:], idleTimeout: env.settings.sessionIdleTimeout,
            event: AuthEvent(.refreshToken, tenantID: tenant.id, data: ["generation": .int(next.generation)]))
        let schema = tenant.schemaName
        let result = try await env.pool.withBlockingConnection { conn -> (Session, User, SessionShaping.Shape, dataWritten: Bool)? in
            guard let (session, user, roles, permissions) = try SessionStore.rotateIfCurrent(rotation, schema: schema, on: conn) else {
                return nil
            }
            var rotated = session
            let shape = shaping.pureShape(user: user, tenant: tenant, roles: roles, permissions: permissions)
            guard shape.sessionData != session.data else { return (rotated, user, shape, true) }
            // Roles or the user changed since the last rotation: the session keeps the new shape.
            // The rotation has committed either way, so a failure here must not lose the token.
            rotated.data = shape.sessionData
            let written = (try? SessionStore.writeData(shape.sessionData, sessionID: session.id, generation: next.generation, schema: schema, on: conn)) != nil
            return (rotated, user, shape, written)
        }
        guard let (session, user, shape, dataWritten) = result else { return nil }
        env.outbox.notifier?.poke()
        if !dataWritten { env.logger.warning("refresh: session data not rewritten (the next refresh retries)", metadata: ["session": "\(session.id)"]) }
        return try await issue(session: session, user: user, tenant: tenant, shape: shape, refresh: next.value, shaping: shaping)
    }

    /// Rotate or replay in one hop, the access token signed after COMMIT; nil for every other
    /// case (nothing was written: the async path then handles it with all its side effects).
    private func fastPath(_ token: RefreshToken, tenant: Tenant, shaping: SessionShaping) async throws -> AuthResponse? {
        enum Fast: Sendable {
            case rotated(old: Session, new: Session, User, SessionShaping.Shape, next: String)
            case replayed(Session, User, SessionShaping.Shape, current: String)
            case other
        }
        let grace = env.settings.refreshGraceWindow
        let idle = env.settings.sessionIdleTimeout
        let tokens = env.tokens
        let result: Fast = try await env.registry.withTenantBlockingTransaction(tenant) { conn in
            guard let (state, user, roles, permissions) = try SessionStore.lockForRefreshWithUser(sessionID: token.sessionID, on: conn),
                  state.session.revokedAt == nil, user.isActive
            else { return .other }
            let shape = shaping.pureShape(user: user, tenant: tenant, roles: roles, permissions: permissions)
            switch Self.decide(token, state, grace: grace, now: Date()) {
            case .rotate:
                let next = try tokens.mintRefresh(tenantID: tenant.id, sessionID: state.session.id, generation: state.session.generation + 1)
                let rotated = try SessionStore.rotate(
                    Self.rotation(token, next: next, session: state.session, user: user, tenant: tenant, shape: shape, idle: idle), on: conn)
                return .rotated(old: state.session, new: rotated, user, shape, next: next.value)
            case .replay(let current):
                return .replayed(state.session, user, shape, current: current)
            case .reuse, .expired:
                return .other
            }
        }
        switch result {
        case .other:
            return nil
        case .rotated(let old, let new, let user, let shape, let next):
            env.outbox.notifier?.poke()
            if let hook = env.hooks.session.onRefreshed { env.afterCommit.enqueue { await hook(old, new) } }
            return try await issue(session: new, user: user, tenant: tenant, shape: shape, refresh: next, shaping: shaping)
        case .replayed(let session, let user, let shape, let current):
            return try await issue(session: session, user: user, tenant: tenant, shape: shape, refresh: current, shaping: shaping)
        }
    }

    static func rotation(
        _ token: RefreshToken, next: RefreshToken, session: Session, user: User, tenant: Tenant, shape: SessionShaping.Shape, idle: Duration
    ) throws -> SessionStore.Rotation {
        SessionStore.Rotation(
            sessionID: session.id, generation: next.generation, currentDigest: next.digest, previousDigest: token.digest,
            sealedCurrent: try token.seal(next: next), keyID: next.keyID, data: shape.sessionData, idleTimeout: idle,
            event: AuthEvent(
                .refreshToken, tenantID: tenant.id, actor: AuthEvent.user(user.id),
                subject: AuthEvent.session(session.id, user: user.id), data: ["generation": .int(next.generation)]))
    }

    private func rotate(
        _ token: RefreshToken, session: Session, user: User, tenant: Tenant, shape: SessionShaping.Shape,
        write: (SessionStore.Rotation) async throws -> Session
    ) async throws -> (Session, RefreshToken) {
        let next = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: session.id, generation: session.generation + 1)
        let rotated = try await write(
            try Self.rotation(token, next: next, session: session, user: user, tenant: tenant, shape: shape, idle: env.settings.sessionIdleTimeout))
        return (rotated, next)
    }

    private func afterRotation(old: Session, new: Session, tx: PGTransaction) {
        env.outbox.notifyAfterCommit(tx)
        if let hook = env.hooks.session.onRefreshed { env.afterCommit(tx) { await hook(old, new) } }
    }

    private func issue(
        session: Session, user: User, tenant: Tenant, shape: SessionShaping.Shape, refresh: String, shaping: SessionShaping
    ) async throws -> AuthResponse {
        let access = try await shaping.accessToken(session: session, user: user, tenant: tenant, shape: shape)
        return try await shaping.response(
            access: access, refresh: refresh, shape: shape, message: "Token refreshed successfully", context: "refresh")
    }
}
