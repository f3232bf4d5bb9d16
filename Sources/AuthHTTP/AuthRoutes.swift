import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird

/// The `/auth` routes of API.md that this build serves, plus the JWKS document.
public struct AuthRoutes: Sendable {
    let env: AuthEnvironment
    let transport: TokenTransport

    public init(env: AuthEnvironment) {
        self.env = env
        self.transport = TokenTransport(
            settings: env.settings, hooks: env.hooks, csrf: CSRFGuard(settings: env.settings, keyring: env.tokens.keyring))
    }

    public func register(on router: Router<AuthRequestContext>) {
        router.get("/.well-known/jwks.json") { _, _ in
            JSONBody.response(.object(env.tokens.jwks), headers: [.cacheControl: "public, max-age=\(SigningKeys.jwksMaxAge.wholeSeconds)"])
        }
        let auth = router.group("auth")
        auth.post("signup", use: signup)
        auth.post("login", use: login)
        auth.post("refresh-token", use: refresh)
        auth.post("logout", use: logout)
        auth.post("logout-all", use: logoutAll)
        auth.get("me", use: me)
        auth.get("user", use: user)
        auth.get("verify-session", use: verifySession)
        auth.get("sessions", use: sessions)
        auth.delete("sessions/:id", use: revokeSession)
        auth.get("client-config", use: clientConfig)
        auth.get("csrf", use: csrfToken)
    }

    // MARK: - public routes

    @Sendable func signup(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let auth = Self.authRequest(request, context)
        let mode = try await transport.mode(for: request, auth: auth)
        let body = try await JSONBody.object(request, context: context)
        let tenant = try await env.tenants.resolve(try tenantName(request, body))
        guard let password = try JSONBody.string(body, "password", maxLength: 4096) else {
            throw AuthError(.missingRequiredFields, message: "password is required")
        }
        let profile = body.filter { !["email", "phone", "password", "tenantId"].contains($0.key) }
        let input = SignupInput(
            email: try JSONBody.string(body, "email", maxLength: 320), phone: try JSONBody.string(body, "phone", maxLength: 32),
            password: password, profile: profile)
        let response = try await SignupFlow(env: env).run(input, tenant: tenant, request: auth)
        return transport.respond(response, mode: mode)
    }

    @Sendable func login(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let auth = Self.authRequest(request, context)
        let mode = try await transport.mode(for: request, auth: auth)
        let body = try await JSONBody.object(request, context: context)
        let credentials = try JSONBody.object(body, "credentials") ?? [:]
        let input = LoginInput(
            providerName: try JSONBody.string(body, "providerName", maxLength: 64) ?? "email",
            email: try JSONBody.string(credentials, "email", maxLength: 320),
            phone: try JSONBody.string(credentials, "phone", maxLength: 32),
            password: try JSONBody.string(credentials, "password", maxLength: 4096))
        let response = try await LoginFlow(env: env).run(input, tenantName: try tenantName(request, body), request: auth)
        return transport.respond(response, mode: mode)
    }

    @Sendable func refresh(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let auth = Self.authRequest(request, context)
        let mode = try await transport.mode(for: request, auth: auth)
        let body = try await JSONBody.object(request, context: context)
        guard let (token, fromCookie) = try transport.refreshToken(request, body: body), !token.isEmpty else {
            throw AuthError.refreshTokenInvalid
        }
        if fromCookie {
            guard let parsed = env.tokens.parseRefresh(token) else { throw AuthError.refreshTokenInvalid }
            try transport.csrf.check(request, sessionID: parsed.sessionID)
        }
        let response = try await RefreshFlow(env: env).run(token, request: auth)
        return transport.respond(response, mode: mode)
    }

    @Sendable func logout(_ request: Request, context: AuthRequestContext) async throws -> Response {
        // Always 200 and cookies cleared; which session ends is LogoutFlow's decision. A session
        // named by a cookie ends only with that session's CSRF token.
        let auth = Self.authRequest(request, context)
        let mode = (try? await transport.mode(for: request, auth: auth)) ?? .header
        let body = (try? await JSONBody.object(request, context: context)) ?? [:]
        let refresh = (try? transport.refreshToken(request, body: body)).flatMap { $0 }
        let input = LogoutInput(
            accessToken: (try? transport.accessToken(request, mode: mode)) ?? nil, accessTokenFromCookie: mode == .cookie,
            refreshToken: refresh?.token, refreshTokenFromCookie: refresh?.fromCookie == true, request: auth)
        try await LogoutFlow(env: env).run(input) { session in try transport.csrf.check(request, sessionID: session) }
        return JSONBody.response(.object(["message": .string("Logged out successfully")]), headers: transport.clearingCookies())
    }

    @Sendable func clientConfig(_ request: Request, context: AuthRequestContext) async throws -> Response {
        JSONBody.response(.object([
            "registration": .object(["enabled": .bool(env.settings.registrationEnabled)]),
            "emailAuth": .object(["enabled": .bool(true)]),
            "phoneAuth": .object(["enabled": .bool(true)]),
            "mfa": .object(["enabled": .bool(false)]),
            "accessTokenType": .string(env.settings.accessTokenType.rawValue),
            "csrf": .object([
                "enabled": .bool(env.settings.csrfProtection), "headerName": .string(CSRFGuard.headerName),
                "cookieName": .string(CSRFGuard.cookieName),
            ]),
            "password": .object(["minLength": .int(env.settings.passwordPolicy.minLength), "maxLength": .int(env.settings.passwordPolicy.maxLength)]),
        ]))
    }

    // MARK: - guarded routes

    @Sendable func logoutAll(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let principal = try await authenticate(request, context)
        let count = try await LogoutAllFlow(env: env).run(principal)
        return JSONBody.response(
            .object(["message": .string("Logged out from all devices"), "revokedSessions": .int(count)]),
            headers: transport.clearingCookies())
    }

    /// A fresh CSRF token for the caller's session (body and readable cookie). The session is
    /// the access token's, else the refresh cookie's (path /auth reaches here): a client that lost
    /// its `authd_csrf` cookie after its access token expired can still get one and refresh. A
    /// GET changes nothing, and another origin cannot read the answer.
    @Sendable func csrfToken(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let sessionID: UUID
        let maxAge: Int
        do {
            let principal = try await authenticate(request, context)
            sessionID = principal.session.id
            maxAge = max(0, Int(principal.session.expiresAt.timeIntervalSinceNow))
        } catch {
            guard let cookie = request.cookies["refreshToken"], let refresh = env.tokens.parseRefresh(String(cookie.value)) else {
                throw error
            }
            sessionID = refresh.sessionID
            maxAge = env.settings.sessionAbsoluteLifetime.wholeSeconds
        }
        let token = try transport.csrf.token(for: sessionID)
        return JSONBody.response(
            .object([
                "csrfToken": .string(token), "headerName": .string(CSRFGuard.headerName), "cookieName": .string(CSRFGuard.cookieName),
            ]),
            headers: [.setCookie: transport.csrfCookie(token, maxAge: maxAge)])
    }

    @Sendable func me(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let principal = try await authenticate(request, context)
        return JSONBody.response(.object(Authenticator(env: env).sessionUser(of: principal)))
    }

    @Sendable func user(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let principal = try await authenticate(request, context)
        return JSONBody.response(.object(try await Authenticator(env: env).userWithRoles(of: principal)))
    }

    @Sendable func verifySession(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let principal = try await authenticate(request, context)
        return JSONBody.response(.object([
            "valid": .bool(true), "userId": .string(principal.user.id.uuidString.lowercased()),
            "sessionId": .string(principal.session.id.uuidString.lowercased()),
            "expiresAt": .string(ISO8601.format(min(principal.session.idleExpiresAt, principal.session.expiresAt))),
        ]))
    }

    @Sendable func sessions(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let principal = try await authenticate(request, context)
        let list = try await Authenticator(env: env).sessions(of: principal)
        return JSONBody.response(.array(list.map { .object($0.json(current: $0.id == principal.session.id)) }))
    }

    @Sendable func revokeSession(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let principal = try await authenticate(request, context)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
            throw AuthError.invalidInput("id", "must be a session id")
        }
        try await Authenticator(env: env).revokeOwnSession(id, of: principal)
        return JSONBody.response(.object(["message": .string("Session revoked")]))
    }

    // MARK: - helpers

    /// Runs the guard; a body or header naming another tenant than the token is 403 `INVALID_TENANT`.
    func authenticate(_ request: Request, _ context: AuthRequestContext) async throws -> Principal {
        let auth = Self.authRequest(request, context)
        let mode = try await transport.mode(for: request, auth: auth)
        let principal = try await Authenticator(env: env).authenticate(
            accessToken: try transport.accessToken(request, mode: mode), request: auth)
        // Cookie mode reads the access token from a cookie: a write then needs its CSRF token.
        if mode == .cookie { try transport.csrf.check(request, sessionID: principal.session.id) }
        if let named = request.headers[HTTPField.Name("x-tenant-id")!], !named.isEmpty,
           named.lowercased() != principal.tenant.id.uuidString.lowercased(), named != principal.tenant.slug
        {
            throw AuthError.invalidTenant
        }
        return principal
    }

    /// Body `tenantId`, else header `x-tenant-id`, else nil (the default tenant).
    func tenantName(_ request: Request, _ body: JSONObject) throws -> String? {
        if let fromBody = try JSONBody.string(body, "tenantId", maxLength: 64), !fromBody.isEmpty { return fromBody }
        return request.headers[HTTPField.Name("x-tenant-id")!]
    }

    static func authRequest(_ request: Request, _ context: AuthRequestContext) -> AuthRequest {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        return AuthRequest(
            method: request.method.rawValue, path: request.uri.path, headers: headers,
            ipAddress: context.remoteAddress?.ipAddress)
    }
}
