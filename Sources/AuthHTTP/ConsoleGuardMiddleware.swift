import AuthCore
import Hummingbird

/// The guard of the admin console's routes: the `nest_auth_admin` cookie must name a live
/// console session (else 401). Cookie-authenticated writes are kept from other sites by the
/// cookie's `SameSite=Strict`, the Origin check, and JSON-only bodies (a cross-site form cannot
/// send one without a CORS preflight).
struct ConsoleGuardMiddleware: RouterMiddleware {
    typealias Context = AuthRequestContext
    static let cookieName = "nest_auth_admin"
    let env: AuthEnvironment
    let csrf: CSRFGuard

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let console = try await PlatformAdminFlow(env: env).authenticate(token: request.cookies[Self.cookieName]?.value)
        var context = context
        if CSRFGuard.isWrite(request) {
            try csrf.checkOrigin(request)
            context.body = try await RequestBody.json(request, context: context)
        }
        context.console = console
        return try await RequestOrigin.$actor.withValue(console.admin.auditActor) { [context] in try await next(request, context) }
    }
}
