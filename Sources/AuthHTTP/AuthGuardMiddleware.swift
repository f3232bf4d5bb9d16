import AuthCore
import HTTPTypes
import Hummingbird

/// The guard of every `AuthenticatedContext` route (API.md's guard order, then its tenant rule):
/// authenticates the access token (header or cookie, per mode); a cookie-authenticated write
/// needs its session's CSRF token; a header or a body `tenantId` naming another tenant than the
/// token is 403 `INVALID_TENANT`. A write's JSON body is read here (415/413/400 as `RequestBody`
/// says) and handed on, so the tenant check cannot be skipped by a handler that forgets it.
struct AuthGuardMiddleware: RouterMiddleware {
    typealias Context = AuthRequestContext
    let env: AuthEnvironment
    let transport: TokenTransport
    /// True only for the MFA routes a login's challenge-stage token may call (status, challenge,
    /// verify, recovery); everywhere else such a token is 401 `MFA_REQUIRED`.
    var allowsPendingMfa = false

    /// What a user of a tenant that requires MFA may reach before turning it on: the MFA
    /// routes, who they are, signing out, and the re-authentication set-up may ask for.
    static func allowedBeforeMFASetup(_ path: String) -> Bool {
        path.hasPrefix("/auth/mfa/") || ["/auth/me", "/auth/logout", "/auth/logout-all", "/auth/reauthenticate", "/auth/csrf"].contains(path)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let mode = try await transport.mode(for: request, auth: auth)
        let principal: Principal
        if let apiKey = transport.apiKey(request) {
            principal = try await Authenticator(env: env).authenticate(apiKey: apiKey, request: auth)
        } else {
            principal = try await Authenticator(env: env).authenticate(accessToken: try transport.accessToken(request, mode: mode), request: auth)
        }
        if principal.mfaPending(env.settings), !allowsPendingMfa { throw AuthError(.mfaRequired) }
        if env.settings(for: principal.tenant).mfaRequired, !principal.user.isMfaEnabled, !Self.allowedBeforeMFASetup(request.uri.path) {
            throw AuthError(.mfaSetupRequired)
        }
        // Cookie mode reads the access token from a cookie: a write then needs its CSRF token.
        if mode == .cookie, principal.apiKeyID == nil { try transport.csrf.check(request, sessionID: principal.session.id) }
        if let named = request.headers[HTTPField.Name("x-tenant-id")!], !named.isEmpty, !principal.tenant.isNamed(by: named) {
            throw AuthError.invalidTenant
        }
        var context = context
        if CSRFGuard.isWrite(request) {
            let body = try await RequestBody.json(request, context: context)
            if let named = try JSONFields(body).string("tenantId", maxLength: 64), !named.isEmpty, !principal.tenant.isNamed(by: named) {
                throw AuthError.invalidTenant
            }
            context.body = body
        }
        context.principal = principal
        return try await LogMetadata.withTenant(principal.tenant.slug) { [context] in
            try await RequestOrigin.$actor.withValue(principal.auditActor) { try await next(request, context) }
        }
    }
}

extension Tenant {
    /// True when `name` is this tenant's id or slug, in any case (as tenant resolution takes them).
    func isNamed(by name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered == id.uuidString.lowercased() || lowered == slug.lowercased()
    }
}
