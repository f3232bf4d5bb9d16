import AuthCore
import HTTPTypes
import Hummingbird

/// Admits a request to the tenant admin API and decides its scope:
/// - a platform admin's live console session (and no `Authorization`): the tenant `x-tenant-id`
///   names (400 `TENANT_ID_REQUIRED` without one, 404 for an unknown or disabled one), every
///   permission;
/// - otherwise authd's guard (token or API key, with all its checks), then `auth.admin`: the
///   token's own tenant, the permissions of its roles.
struct AdminScopeMiddleware: RouterMiddleware {
    typealias Context = AuthRequestContext
    let env: AuthEnvironment
    let transport: TokenTransport

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // A live console session; a stale console cookie falls through to the token guard (the
        // same browser may carry a tenant admin's cookie-mode login).
        if request.headers[.authorization] == nil, let cookie = request.cookies[ConsoleGuardMiddleware.cookieName]?.value,
           let console = try? await PlatformAdminFlow(env: env).authenticate(token: cookie)
        {
            guard let named = request.headers[HTTPField.Name("x-tenant-id")!], !named.isEmpty else { throw AuthError(.tenantIDRequired) }
            let tenant = try await env.tenants.resolve(named)
            var context = context
            if CSRFGuard.isWrite(request) {
                try transport.csrf.checkOrigin(request)
                context.body = try await RequestBody.json(request, context: context)
            }
            let scope = AdminScope(platformAdmin: console.admin, tenant: tenant)
            context.adminScope = scope
            return try await LogMetadata.withTenant(tenant.slug) { [context] in
                try await RequestOrigin.$actor.withValue(scope.actor) { try await next(request, context) }
            }
        }
        let guarded = AuthGuardMiddleware(env: env, transport: transport)
        return try await guarded.handle(request, context: context) { request, context in
            guard let principal = context.principal else { throw AuthError.noAuthProvided }
            let scope = AdminScope(principal: principal, permissions: principal.permissions)
            try scope.require([Permission.admin])
            var context = context
            context.adminScope = scope
            return try await next(request, context)
        }
    }
}

/// A route's own permissions within the admin API (a platform admin holds them all).
struct RequireAdminPermission: RouterMiddleware {
    typealias Context = AdminContext
    let permissions: [String]

    init(_ permissions: [String]) {
        self.permissions = permissions
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try context.scope.require(permissions)
        return try await next(request, context)
    }
}

extension RouterGroup where Context == AdminContext {
    /// A child group whose routes also need `permissions`. (Hummingbird's `add(middleware:)`
    /// adds to the group it is called on — every route registered there afterwards would need
    /// them too — so each permission gets a group of its own.)
    func requiring(_ permissions: String...) -> RouterGroup<AdminContext> {
        group("").add(middleware: RequireAdminPermission(permissions))
    }
}
