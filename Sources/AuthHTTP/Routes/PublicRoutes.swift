import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird

/// The public `/auth` routes of API.md: signup, login, refresh, logout (optional auth), the
/// client configuration, CSRF tokens, tenant lookup; and the JWKS document.
struct PublicRoutes: Sendable {
    let env: AuthEnvironment
    let transport: TokenTransport

    func register(on router: Router<AuthRequestContext>) {
        router.get("/.well-known/jwks.json", use: jwks)
        let auth = router.group("auth")
        auth.post("signup", use: signup)
        auth.post("login", use: login)
        auth.post("refresh-token", use: refresh)
        auth.post("logout", use: logout)
        auth.get("client-config", use: clientConfig)
        auth.get("csrf", use: csrfToken)
        auth.get("tenants/lookup", use: tenantLookup)
    }

    @Sendable func jwks(_ request: Request, context: AuthRequestContext) async throws -> Response {
        JSONResponse.make(.object(env.tokens.jwks), headers: [.cacheControl: "public, max-age=\(SigningKeys.jwksMaxAge.wholeSeconds)"])
    }

    @Sendable func signup(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = try SignupRequest(JSONFields(try await RequestBody.json(request, context: context)))
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let mode = try await transport.mode(for: request, auth: auth)
        if mode == .cookie { try transport.csrf.checkOrigin(request) }
        let tenant = try await env.tenants.resolve(try body.tenantID.flatMap { $0.isEmpty ? nil : $0 } ?? TenantHeader.value(request))
        let input = SignupInput(email: body.email, phone: body.phone, password: body.password, profile: body.profile)
        let response = try await LogMetadata.withTenant(tenant.slug) { try await SignupFlow(env: env).run(input, tenant: tenant, request: auth) }
        return transport.respond(response, mode: mode)
    }

    @Sendable func login(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = try LoginRequest(JSONFields(try await RequestBody.json(request, context: context)))
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let mode = try await transport.mode(for: request, auth: auth)
        if mode == .cookie { try transport.csrf.checkOrigin(request) }
        let tenantName = try body.tenantID.flatMap { $0.isEmpty ? nil : $0 } ?? TenantHeader.value(request)
        let response = try await LoginFlow(env: env).run(body.input, tenantName: tenantName, request: auth)
        return transport.respond(response, mode: mode, persistent: body.rememberMe)
    }

    @Sendable func refresh(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = JSONFields(try await RequestBody.json(request, context: context))
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let mode = try await transport.mode(for: request, auth: auth)
        if mode == .cookie { try transport.csrf.checkOrigin(request) }
        guard let (token, fromCookie) = try transport.refreshToken(request, body: body), !token.isEmpty else {
            throw AuthError.refreshTokenInvalid
        }
        if fromCookie {
            guard let session = env.tokens.sessionID(ofRefreshToken: token) else { throw AuthError.refreshTokenInvalid }
            try transport.csrf.check(request, sessionID: session)
        }
        let response = try await RefreshFlow(env: env).run(token, request: auth)
        return transport.respond(response, mode: mode, persistent: !transport.isSessionOnly(request))
    }

    /// Always 200 and cookies cleared; which session ends is LogoutFlow's decision. A session
    /// named by a cookie ends only with that session's CSRF token. A body that cannot be read
    /// counts as none, and so does a `refreshToken` field that is not a usable string — the
    /// refresh cookie is then still used (logging out must work from any client).
    @Sendable func logout(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        let mode = (try? await transport.mode(for: request, auth: auth)) ?? .header
        let body = JSONFields((try? await RequestBody.json(request, context: context)) ?? [:])
        let refresh = (try? transport.refreshToken(request, body: body)) ?? (try? transport.refreshToken(request, body: JSONFields([:]))) ?? nil
        let input = LogoutInput(
            accessToken: (try? transport.accessToken(request, mode: mode)) ?? nil, accessTokenFromCookie: mode == .cookie,
            refreshToken: refresh?.token, refreshTokenFromCookie: refresh?.fromCookie == true, request: auth)
        try await LogoutFlow(env: env).run(input) { session in try transport.csrf.check(request, sessionID: session) }
        return JSONResponse.message("Logged out successfully", headers: transport.clearingCookies())
    }

    /// The flags a login page needs; with `x-tenant-id` (or `?tenantId=`), that tenant's
    /// choices (registration, providers) over the deployment's.
    @Sendable func clientConfig(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let named = request.uri.queryParameters.get("tenantId") ?? (try? TenantHeader.value(request)) ?? nil
        // Every field from one settings value: the tenant's when it names a known tenant (an
        // unknown one, or one the database cannot look up now, gets the deployment's).
        var settings = env.settings
        if let named, named.utf8.count <= 64, !TextInput.hasControlCharacters(named), let tenant = try? await env.tenants.resolve(named) {
            settings = env.settings(for: tenant)
        }
        return JSONResponse.make(.object([
            "providers": .array(settings.providers.clientConfig(settings: settings)),
            "registration": .object(["enabled": .bool(settings.registrationEnabled)]),
            "emailAuth": .object(["enabled": .bool(true)]),
            "phoneAuth": .object(["enabled": .bool(true)]),
            "mfa": .object([
                "enabled": .bool(settings.mfa.enabled), "methods": .array(settings.mfa.methods.sorted().map { .string($0.rawValue) }),
                "allowUserToggle": .bool(settings.mfa.allowUserToggle),
            ]),
            "passwordless": .object(["enabled": .bool(settings.passwordlessEnabled)]),
            "passkeys": .object([
                "enabled": .bool(settings.passkeys.relyingParty != nil), "rpId": settings.passkeys.rpID.map(JSONValue.string) ?? .null,
            ]),
            "accessTokenType": .string(settings.accessTokenType.rawValue),
            "csrf": .object([
                "enabled": .bool(settings.csrfProtection), "headerName": .string(CSRFGuard.headerName),
                "cookieName": .string(CSRFGuard.cookieName),
            ]),
            "password": .object(["minLength": .int(settings.passwordPolicy.minLength), "maxLength": .int(settings.passwordPolicy.maxLength)]),
        ]))
    }

    /// A fresh CSRF token for the caller's session (body and readable cookie). The session is
    /// the access token's, else the refresh cookie's (path /auth reaches here): a client that lost
    /// its `authd_csrf` cookie after its access token expired can still get one and refresh. A
    /// GET changes nothing, and another origin cannot read the answer.
    @Sendable func csrfToken(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let sessionID: UUID
        let maxAge: Int
        do {
            let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
            let mode = try await transport.mode(for: request, auth: auth)
            let principal = try await Authenticator(env: env).authenticate(accessToken: try transport.accessToken(request, mode: mode), request: auth)
            sessionID = principal.session.id
            maxAge = max(0, Int(principal.session.expiresAt.timeIntervalSinceNow))
        } catch {
            guard let cookie = request.cookies["refreshToken"], let session = env.tokens.sessionID(ofRefreshToken: String(cookie.value)) else {
                throw error
            }
            sessionID = session
            maxAge = env.settings.sessionAbsoluteLifetime.wholeSeconds
        }
        let token = try transport.csrf.token(for: sessionID)
        return JSONResponse.make(
            .object(["csrfToken": .string(token), "headerName": .string(CSRFGuard.headerName), "cookieName": .string(CSRFGuard.cookieName)]),
            headers: [.setCookie: transport.csrfCookie(token, maxAge: maxAge)])
    }

    /// `{id, slug, name}` of the active tenant with exactly this slug, or 404 `TENANT_NOT_FOUND`.
    @Sendable func tenantLookup(_ request: Request, context: AuthRequestContext) async throws -> Response {
        guard let slug = request.uri.queryParameters["slug"].map(String.init), !slug.isEmpty else {
            throw AuthError.invalidInput("slug", "is required")
        }
        let tenant = try await env.tenants.lookup(slug: slug)
        return JSONResponse.make(.object([
            "id": .string(tenant.id.uuidString.lowercased()), "slug": .string(tenant.slug), "name": .string(tenant.name),
        ]))
    }
}
