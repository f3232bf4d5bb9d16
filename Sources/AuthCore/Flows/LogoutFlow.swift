import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// What `POST /auth/logout` was given: the credentials as the HTTP layer found them.
public struct LogoutInput: Sendable {
    /// The access token (header or cookie, per the request's mode), if any.
    public var accessToken: String?
    public var accessTokenFromCookie: Bool
    /// The refresh token (body, else cookie), if any.
    public var refreshToken: String?
    public var refreshTokenFromCookie: Bool
    public var request: AuthRequest

    public init(
        accessToken: String?, accessTokenFromCookie: Bool, refreshToken: String?, refreshTokenFromCookie: Bool, request: AuthRequest
    ) {
        self.accessToken = accessToken
        self.accessTokenFromCookie = accessTokenFromCookie
        self.refreshToken = refreshToken
        self.refreshTokenFromCookie = refreshTokenFromCookie
        self.request = request
    }
}

/// `POST /auth/logout`: ends the caller's session and records `auth.logged_out`. Always succeeds
/// for the client (logging out twice, or with no valid token, is not an error) — except that a
/// session named by a cookie is ended only with a valid CSRF token, so no other site can log a
/// user out. Which session, in order:
/// 1. the one the guard accepts the access token for;
/// 2. when the guard refuses (expired token, disabled user, hook rejection): the session of an
///    authentic access token, even expired;
/// 3. else the session of a refresh token — only if it is the session's current or previous one
///    (an older copy proves nothing about who holds the session now).
public struct LogoutFlow: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// `checkCSRF(sessionID)` throws when a cookie-authenticated request lacks a valid CSRF token.
    public func run(_ input: LogoutInput, checkCSRF: (UUID) throws -> Void) async throws {
        if let token = input.accessToken, !token.isEmpty {
            if let principal = try await guardAccepts(token, input.request) {
                if input.accessTokenFromCookie { try checkCSRF(principal.session.id) }
                return try await revoke(sessionID: principal.session.id, tenant: principal.tenant, refreshDigest: nil)
            }
            if let claims = try? await env.tokens.verifyAccess(token, allowExpired: true),
               let tenantID = UUID(uuidString: claims.tenantID), let sessionID = UUID(uuidString: claims.sessionID),
               let tenant = try await tenant(tenantID)
            {
                if input.accessTokenFromCookie { try checkCSRF(sessionID) }
                return try await revoke(sessionID: sessionID, tenant: tenant, refreshDigest: nil)
            }
        }
        if let presented = input.refreshToken, let token = env.tokens.parseRefresh(presented), let tenant = try await tenant(token.tenantID) {
            if input.refreshTokenFromCookie { try checkCSRF(token.sessionID) }
            try await revoke(sessionID: token.sessionID, tenant: tenant, refreshDigest: token.digest)
        }
    }

    /// The guard's principal, or nil when it refuses the token for any reason but the
    /// database being unavailable.
    private func guardAccepts(_ token: String, _ request: AuthRequest) async throws -> Principal? {
        do {
            return try await Authenticator(env: env).authenticate(accessToken: token, request: request)
        } catch let error as AuthError where error.entry == .serviceUnavailable {
            throw error
        } catch {
            return nil
        }
    }

    private func tenant(_ id: UUID) async throws -> Tenant? {
        try await LoginFlow.unlessUnknown { try await env.tenants.resolve(id: id) }
    }

    /// Revokes a session; with `refreshDigest`, only if it is the session's current or previous
    /// refresh token.
    private func revoke(sessionID: UUID, tenant: Tenant, refreshDigest: [UInt8]?) async throws {
        try await Authenticator.tenantGone(as: .sessionNotFound) {
            try await env.db.inTenant(tenant) { tx in
                if let refreshDigest {
                    guard let (state, _, _, _) = try await env.sessions.lockForRefresh(sessionID: sessionID, on: tx),
                          state.currentDigest == refreshDigest || state.previousDigest == refreshDigest
                    else { return }
                }
                guard let session = try await env.sessions.revoke(sessionID: sessionID, reason: "logout", on: tx) else { return }
                try await env.outbox.append(
                    AuthEvent(
                        .loggedOut, tenantID: tenant.id, actor: AuthEvent.user(session.userID),
                        subject: AuthEvent.session(session.id, user: session.userID)), in: tx)
                try await SessionOpener(env: env).revoked(session, reason: "logout", tenant: tenant, tx: tx)
            }
        }
    }
}
