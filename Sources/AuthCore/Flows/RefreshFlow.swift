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
/// The window and the session's lifetimes are judged by the database's clock, so a server whose
/// clock is off can neither revoke an honest session nor extend a dead one.
///
/// Without shaping hooks the rotation of a current token is one autocommit statement (see
/// `SessionStore.rotateIfCurrent`); everything else runs in one transaction.
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

    static func decide(_ token: RefreshToken, _ state: SessionStore.RefreshState, grace: Duration) -> Decision {
        guard state.isLive else { return .expired }
        let session = state.session
        let digest = token.digest
        if token.generation == session.generation, digest == state.currentDigest { return .rotate }
        if token.generation == session.generation - 1, digest == state.previousDigest, let age = state.secondsSinceRotation,
           let sealed = state.sealedCurrent, age <= grace.timeInterval, let current = try? token.unseal(sealed)
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
        guard let tenant = try await LoginFlow.unlessUnknown({ try await env.tenants.resolve(id: token.tenantID) }) else {
            throw AuthError.refreshTokenInvalid
        }
        return try await LogMetadata.withTenant(tenant.slug) {
            try await rotateOrReplay(token, tenant: tenant, request: request)
        }
    }

    private func rotateOrReplay(_ token: RefreshToken, tenant: Tenant, request: AuthRequest) async throws -> AuthResponse {
        try await Authenticator.tenantGone(as: .refreshTokenInvalid) {
            let shaping = SessionShaping(env: env)
            if shaping.isPure, env.hooks.session.onRefreshed == nil,
               let response = try await oneStatement(token, tenant: tenant, shaping: shaping, request: request)
            {
                return response
            }
            return try await locked(token, tenant: tenant, shaping: shaping, request: request)
        }
    }

    /// The rotation of the current token in one statement, the access token signed after it
    /// committed; nil when the statement matched nothing (nothing was written).
    private func oneStatement(_ token: RefreshToken, tenant: Tenant, shaping: SessionShaping, request: AuthRequest) async throws -> AuthResponse? {
        let next = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: token.sessionID, generation: token.generation + 1)
        let rotation = SessionStore.Rotation(
            sessionID: token.sessionID, generation: next.generation, currentDigest: next.digest, previousDigest: token.digest,
            sealedCurrent: try token.seal(next: next), keyID: next.keyID, data: [:], idleTimeout: env.settings(for: tenant).sessionIdleTimeout,
            event: try env.outbox.row(AuthEvent(.refreshToken, tenantID: tenant.id, data: ["generation": .int(next.generation)])))
        let sessions = env.sessions
        guard let (session, user, roles, permissions) = try await env.db.tenantStatements(tenant, { scope in
            try await sessions.rotateIfCurrent(rotation, on: scope)
        }) else { return nil }
        env.outbox.notifier?.poke()
        var rotated = session
        let shape = shaping.pureShape(user: user, tenant: tenant, roles: roles, permissions: permissions)
        if shape.sessionData != session.data {
            // Roles or the user changed since the last rotation: the session keeps the new shape.
            // The rotation has committed either way, so a failure here must not lose the token.
            rotated.data = shape.sessionData
            do {
                try await env.db.tenantStatements(tenant) { scope in
                    try await sessions.writeData(shape.sessionData, sessionID: session.id, generation: next.generation, on: scope)
                }
            } catch {
                request.logger.warning(
                    "refresh: session data not rewritten (the next refresh retries)", metadata: ["session": "\(session.id)", "error": "\(error)"])
            }
        }
        return try await issue(session: rotated, user: user, tenant: tenant, shape: shape, refresh: next.value, shaping: shaping)
    }

    /// Every case with the session row locked, hooks included.
    private func locked(_ token: RefreshToken, tenant: Tenant, shaping: SessionShaping, request: AuthRequest) async throws -> AuthResponse {
        let outcome: Outcome = try await env.db.inTenant(tenant) { tx in
            guard let (state, user, roles, permissions) = try await env.sessions.lockForRefresh(sessionID: token.sessionID, on: tx),
                  state.session.revokedAt == nil
            else { throw AuthError.refreshTokenInvalid }
            let stored = (roles: roles, permissions: permissions)
            let session = state.session
            switch Self.decide(token, state, grace: env.settings.refreshGraceWindow) {
            case .expired:
                if let revoked = try await env.sessions.revoke(sessionID: session.id, reason: "expired", on: tx) {
                    try await SessionOpener(env: env).revoked(revoked, reason: "expired", tenant: tenant, tx: tx)
                }
                return .expired
            case .rotate:
                guard user.isActive else { throw AuthError.refreshTokenInvalid }
                let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx, stored: stored)
                let next = try env.tokens.mintRefresh(tenantID: tenant.id, sessionID: session.id, generation: session.generation + 1)
                let rotated = try await env.sessions.rotate(
                    SessionStore.Rotation(
                        sessionID: session.id, generation: next.generation, currentDigest: next.digest, previousDigest: token.digest,
                        sealedCurrent: try token.seal(next: next), keyID: next.keyID, data: shape.sessionData,
                        idleTimeout: env.settings(for: tenant).sessionIdleTimeout,
                        event: try env.outbox.row(AuthEvent(
                            .refreshToken, tenantID: tenant.id, actor: AuthEvent.user(user.id),
                            subject: AuthEvent.session(session.id, user: user.id), data: ["generation": .int(next.generation)]))),
                    on: tx)
                env.outbox.notifyAfterCommit(tx)
                if let hook = env.hooks.session.onRefreshed { env.afterCommit(tx) { await HookTenant.$current.withValue(tenant) { await hook(session, rotated) } } }
                return .issued(try await issue(session: rotated, user: user, tenant: tenant, shape: shape, refresh: next.value, shaping: shaping))
            case .replay(let current):
                guard user.isActive else { throw AuthError.refreshTokenInvalid }
                let shape = try await shaping.shape(user: user, tenant: tenant, tx: tx, stored: stored)
                return .issued(try await issue(session: session, user: user, tenant: tenant, shape: shape, refresh: current, shaping: shaping))
            case .reuse:
                // A genuine token that is no longer current: someone holds a copy. End the session.
                if let revoked = try await env.sessions.revoke(sessionID: session.id, reason: "refresh_token_reuse", on: tx) {
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

    private func issue(
        session: Session, user: User, tenant: Tenant, shape: SessionShaping.Shape, refresh: String, shaping: SessionShaping
    ) async throws -> AuthResponse {
        let access = try await shaping.accessToken(session: session, user: user, tenant: tenant, shape: shape)
        return try await shaping.response(
            access: access, refresh: refresh, shape: shape, message: "Token refreshed successfully", context: "refresh")
    }
}
