#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Who a guarded request acts as.
public struct Principal: Sendable {
    public let tenant: Tenant
    public let user: User
    public let session: Session
    public let claims: AccessTokenClaims
    /// Set when an API key (not a session's access token) authenticated the request.
    public var apiKeyID: UUID? = nil

    /// The request still owes a second factor (while MFA is on for the deployment): its token
    /// is a login's challenge stage (issued MFA-enabled and unverified), or its session never
    /// passed a second factor its user now requires.
    public func mfaPending(_ settings: AuthSettings) -> Bool {
        settings.mfa.enabled && ((claims.isMfaEnabled && !claims.isMfaVerified) || (user.isMfaEnabled && !session.mfaVerified))
    }

    /// The permissions the request holds: the token's, or the session snapshot's when the
    /// deployment leaves them out of tokens (an API key's principal carries its owner's).
    public var permissions: [String] {
        claims.permissions ?? (session.data["permissions"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The actor of the events this principal's requests cause (audit rows, consumers).
    public var auditActor: JSONObject {
        var actor = AuthEvent.user(user.id)
        if let apiKeyID {
            actor["apiKeyId"] = .string(apiKeyID.uuidString.lowercased())
        } else {
            actor["sessionId"] = .string(session.id.uuidString.lowercased())
        }
        return actor
    }
}

/// The guard of API.md, in its order: no credentials → `NO_AUTH_PROVIDED`; bad or expired token
/// → `INVALID_TOKEN` / `TOKEN_EXPIRED`; `guards.beforeAuth` rejects → 401 `ACCESS_DENIED`;
/// revoked or unknown session → `SESSION_NOT_FOUND`; inactive user → `ACCOUNT_INACTIVE`;
/// `guards.afterAuth` rejects → 403 `ACCESS_DENIED`. A database that cannot answer is 503, never
/// a reason to log anyone out.
public struct Authenticator: Sendable {
    let env: AuthEnvironment

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// Authenticates an access token (already taken from the header or cookie).
    public func authenticate(accessToken: String?, request: AuthRequest) async throws -> Principal {
        guard let accessToken, !accessToken.isEmpty else { throw AuthError.noAuthProvided }
        let claims = try await env.tokens.verifyAccess(accessToken)
        guard let tenantID = claims.tenantUUID, let sessionID = claims.sessionUUID else { throw AuthError.sessionNotFound }
        // The tenant first (from memory, usually), so hooks bound per tenant find theirs; its
        // absence is answered after the hook, in API.md's order (ACCESS_DENIED before
        // SESSION_NOT_FOUND), and a failing database still answers 503 here.
        // (A tenant whose deletion was broadcast is not looked up: tokens of it cost no read.)
        let deleted = env.revocations?.tenantDeleted(tenantID) == true
        let resolved = deleted ? nil : try await LoginFlow.unlessUnknown { try await env.tenants.resolve(id: tenantID) }
        if let hook = env.hooks.guards.beforeAuth {
            let decision = try await HookTenant.$current.withValue(resolved) { try await hook(request) }
            if decision.reject { throw AuthError.accessDenied(decision.reason) }
        }
        // Revoked anywhere and broadcast: refused without a database read.
        if deleted || env.revocations?.contains(sessionID) == true { throw AuthError.sessionNotFound }
        guard let tenant = resolved else { throw AuthError.sessionNotFound }
        // With the revocation set in sync, a token seen before needs no database read.
        let synced = env.revocations?.isSynced == true
        let found: (Session, User)?
        if synced, let cached = env.principals.get(accessToken, now: Date()) {
            AuthMetrics.guardCacheHits.increment()
            found = cached
        } else {
            AuthMetrics.guardCacheMisses.increment()
            let sessions = env.sessions
            let live = try await Self.tenantGone(as: .sessionNotFound) {
                try await env.db.tenantStatements(tenant) { try await sessions.liveSessionWithUser(sessionID: sessionID, on: $0) }
            }
            found = live.map { ($0.session, $0.user) }
            if synced, let live, live.user.isActive {
                // Kept no longer than the token, nor than the session lives by the database's clock.
                let sessionEnds = Date().addingTimeInterval(live.secondsLeft)
                env.principals.put(accessToken, session: live.session, user: live.user, expiresAt: min(claims.expiresAt, sessionEnds))
            }
        }
        guard let (session, user) = found, user.id == claims.subjectUUID else {
            throw AuthError.sessionNotFound
        }
        guard user.isActive else { throw AuthError.accountInactive }
        if let hook = env.hooks.guards.afterAuth {
            let decision = try await hook(request, user)
            if decision.reject { throw AuthError.accessDenied(decision.reason, afterAuth: true) }
        }
        return Principal(tenant: tenant, user: user, session: session, claims: claims)
    }

    /// Authenticates `Authorization: ApiKey <public>.<secret>` (reference §6.9 without its bugs,
    /// behaviour 39): malformed → `INVALID_API_KEY_FORMAT`; unknown key or wrong secret (compared
    /// in constant time) → `INVALID_API_KEY`; only then revoked → `API_KEY_DEACTIVATED`, expired
    /// → `API_KEY_EXPIRED`; an inactive owner → `ACCOUNT_INACTIVE`. The guard hooks run as for
    /// tokens; the owner's stored roles and permissions apply; the last use is stamped.
    public func authenticate(apiKey text: String, request: AuthRequest) async throws -> Principal {
        guard let key = APIKey(parsing: text) else { throw AuthError(.invalidAPIKeyFormat) }
        let resolved = try await LoginFlow.unlessUnknown { try await env.tenants.resolve(id: key.tenantID) }
        if let hook = env.hooks.guards.beforeAuth {
            let decision = try await HookTenant.$current.withValue(resolved) { try await hook(request) }
            if decision.reject { throw AuthError.accessDenied(decision.reason) }
        }
        guard let tenant = resolved else { throw AuthError(.invalidAPIKey) }
        let store = APIKeyStore()
        let found = try await Self.tenantGone(as: .invalidAPIKey) {
            try await env.db.tenantStatements(tenant) { try await store.find(publicKey: key.publicKey, on: $0) }
        }
        guard let found, key.matches(found.secretDigest) else { throw AuthError(.invalidAPIKey) }
        guard !found.revoked else { throw AuthError(.apiKeyDeactivated) }
        guard !found.expired else { throw AuthError(.apiKeyExpired) }
        guard found.user.isActive else { throw AuthError.accountInactive }
        try await env.db.tenantStatements(tenant) { try await store.touch(id: found.id, on: $0) }
        if let hook = env.hooks.guards.afterAuth {
            let decision = try await hook(request, found.user)
            if decision.reject { throw AuthError.accessDenied(decision.reason, afterAuth: true) }
        }
        let now = env.now()
        let claims = AccessTokenClaims(
            issuer: env.settings.issuer, audience: env.settings.audience, subject: found.user.id.uuidString.lowercased(), issuedAt: now,
            expiresAt: now.addingTimeInterval(60), tokenID: found.id.uuidString.lowercased(), sessionID: found.id.uuidString.lowercased(),
            tenantID: tenant.id.uuidString.lowercased(), roles: found.roles, permissions: found.permissions, isMfaEnabled: false,
            isMfaVerified: true)
        return Principal(
            tenant: tenant, user: found.user, session: Session(apiKey: found.id, userID: found.user.id, now: now), claims: claims,
            apiKeyID: found.id)
    }

    /// Runs `body`; a tenant deleted meanwhile becomes `entry` (its sessions went with it).
    static func tenantGone<T>(as entry: AuthErrorCode, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AuthError where error.entry == .tenantNotFound {
            throw AuthError(entry, cause: error)
        }
    }

    /// The caller's live sessions.
    public func sessions(of principal: Principal) async throws -> [Session] {
        try await env.db.tenantStatements(principal.tenant) { try await env.sessions.list(userID: principal.user.id, on: $0) }
    }

    /// Revokes one of the caller's own sessions; 404 `NOT_FOUND` for any other id (not 401: the
    /// caller's own session is fine).
    public func revokeOwnSession(_ id: UUID, of principal: Principal) async throws {
        try await env.db.inTenant(principal.tenant) { tx in
            guard let session = try await env.sessions.revoke(sessionID: id, reason: "revoked_by_user", owner: principal.user.id, on: tx) else {
                throw AuthError(.notFound, message: "Session not found")
            }
            try await SessionOpener(env: env).revoked(session, reason: "revoked_by_user", tenant: principal.tenant, tx: tx)
        }
    }

    /// The session user (`/auth/me`): the stored session snapshot's user, sensitive fields removed.
    public func sessionUser(of principal: Principal) -> JSONObject {
        // An API key has no session snapshot: its owner as a login would shape them (no hooks).
        let user = principal.apiKeyID == nil
            ? principal.session.data["user"]?.objectValue ?? [:]
            : SessionShaping.defaultSessionUser(
                principal.user, tenant: principal.tenant, roles: principal.claims.roles, permissions: principal.claims.permissions ?? [])
        return SessionShaping.removing(env.hooks.user.sensitiveFields, from: user)
    }

    /// The user with roles (`/auth/user`).
    public func userWithRoles(of principal: Principal) async throws -> JSONObject {
        let (roles, permissions) = try await env.db.tenantStatements(principal.tenant) {
            try await env.roles.rolesAndPermissions(userID: principal.user.id, on: $0)
        }
        var user = principal.user.json
        user["roles"] = .array(roles.map(JSONValue.string))
        user["permissions"] = .array(permissions.map(JSONValue.string))
        user["tenantId"] = .string(principal.tenant.id.uuidString.lowercased())
        return SessionShaping.removing(env.hooks.user.sensitiveFields, from: user)
    }
}
