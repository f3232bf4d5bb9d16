import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird

/// The platform admins' console (API.md, behaviour 40): `POST /auth/admin/signup` (bootstrap
/// secret, only while no admin exists), `/login` (sets the httpOnly `nest_auth_admin` cookie),
/// `/logout`; behind the console cookie: `GET /auth/admin/me`, `POST /auth/admin/change-password`,
/// admins (`/auth/admin/api/admins`), tenants (`/auth/admin/api/tenants`) and the cross-tenant
/// user lookup (`/auth/admin/api/platform/users?email=`).
struct ConsoleRoutes: Sendable {
    let env: AuthEnvironment
    let transport: TokenTransport

    var flow: PlatformAdminFlow { PlatformAdminFlow(env: env) }

    func register(on router: Router<AuthRequestContext>) {
        let open = router.group("auth/admin")
        open.post("signup", use: signup)
        open.post("login", use: login)
        open.post("logout", use: logout)
        let console = router.group("auth/admin").add(middleware: ConsoleGuardMiddleware(env: env, csrf: transport.csrf))
            .group(context: ConsoleContext.self)
        console.get("me") { _, context in JSONResponse.make(.object(["admin": .object(context.console.admin.json)])) }
        console.post("change-password") { _, context in
            let body = JSONFields(context.body)
            try await flow.changePassword(
                context.console, current: try body.string("currentPassword", maxLength: 1024), new: try body.string("newPassword", maxLength: 1024))
            return JSONResponse.message("Password changed; sign in again", headers: clearCookie)
        }
        console.get("api/admins") { _, _ in JSONResponse.make(.array(try await flow.list().map { .object($0.json) })) }
        console.post("api/admins") { _, context in
            let body = JSONFields(context.body)
            let admin = try await flow.create(
                email: try body.string("email", maxLength: 320), password: try body.string("password", maxLength: 1024),
                name: try body.string("name", maxLength: 200))
            return JSONResponse.make(.object(admin.json), status: .created)
        }
        console.delete("api/admins/:id") { _, context in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be an id") }
            try await flow.delete(id: id)
            return JSONResponse.message("Admin deleted")
        }
        ConsoleTenantRoutes(env: env).register(on: console)
    }

    /// `{email, password, name?, secretKey}`.
    @Sendable func signup(_ request: Request, context: AuthRequestContext) async throws -> Response {
        let body = JSONFields(try await RequestBody.json(request, context: context))
        let admin = try await flow.bootstrap(
            email: try body.string("email", maxLength: 320), password: try body.string("password", maxLength: 1024),
            name: try body.string("name", maxLength: 200), secretKey: try body.string("secretKey", maxLength: 1024))
        return JSONResponse.make(.object(["admin": .object(admin.json)]), status: .created)
    }

    /// `{email, password}` → the admin, and the console cookie.
    @Sendable func login(_ request: Request, context: AuthRequestContext) async throws -> Response {
        try transport.csrf.checkOrigin(request)
        let body = JSONFields(try await RequestBody.json(request, context: context))
        let (admin, token) = try await flow.login(
            email: try body.string("email", maxLength: 320), password: try body.string("password", maxLength: 1024),
            request: context.authRequest(request, proxies: env.settings.trustedProxies))
        let cookie = consoleCookie(token, maxAge: env.settings.adminSessionTTL.wholeSeconds)
        return JSONResponse.make(.object(["admin": .object(admin.json)]), headers: [.setCookie: cookie])
    }

    /// Ends the console session the cookie names (if any) and clears the cookie.
    @Sendable func logout(_ request: Request, context: AuthRequestContext) async throws -> Response {
        try transport.csrf.checkOrigin(request)
        if let token = request.cookies[ConsoleGuardMiddleware.cookieName]?.value, !token.isEmpty, token.utf8.count <= 128 {
            try await flow.logout(token: token)
        }
        return JSONResponse.message("Signed out", headers: clearCookie)
    }

    var clearCookie: HTTPFields { [.setCookie: consoleCookie("", maxAge: 0)] }

    /// httpOnly, `SameSite=Strict`, sent only to `/auth/admin`.
    func consoleCookie(_ value: String, maxAge: Int) -> String {
        var c = "\(ConsoleGuardMiddleware.cookieName)=\(value); Path=/auth/admin; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
        if env.settings.secureCookies { c += "; Secure" }
        return c
    }
}
