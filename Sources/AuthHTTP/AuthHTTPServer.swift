import AuthCore
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds authd's Hummingbird application from the runtime (the composition root): routes,
/// middleware, and the services that must live exactly as long as the server (the database
/// pool is shut down after the server stops).
public enum AuthHTTPServer {
    /// Where to listen.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// The router with every route authd serves (`env` nil: health routes only; `metrics` nil:
    /// no `/metrics` route, e.g. when it is served on a port of its own).
    public static func makeRouter(
        readiness: @escaping HealthRoutes<AuthRequestContext>.ReadinessCheck, env: AuthEnvironment? = nil,
        metrics: MetricsRoute? = nil
    ) -> Router<AuthRequestContext> {
        let router = Router(context: AuthRequestContext.self)
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: HTTPMetricsMiddleware())
        router.add(middleware: ErrorEnvelopeMiddleware())
        HealthRoutes(readiness: readiness).register(on: router)
        metrics?.register(on: router)
        if let env {
            router.add(middleware: RequestOriginMiddleware(proxies: env.settings.trustedProxies))
            let transport = TokenTransport(env: env)
            PublicRoutes(env: env, transport: transport).register(on: router)
            if let document = OpenAPIDocument.data { OpenAPIRoute(document: document).register(on: router) }
            PasswordResetRoutes(env: env).register(on: router)
            PasswordlessRoutes(env: env).register(on: router)
            // Guarded routes: only through the guard, and only with the context it makes.
            let guarded = guardedGroup(router, path: "auth", env: env)
            SessionRoutes(env: env, transport: transport).register(on: guarded)
            AccountRoutes(env: env, transport: transport).register(on: guarded)
            APIKeyRoutes(env: env).register(on: guarded)
            IdentityRoutes(env: env).register(on: guarded)
            PasskeyRoutes(env: env, transport: transport).register(public: router, guarded: guarded)
            // The tenant admin API: the token's tenant only, `auth.admin` plus each route's own.
            // Tenant admins by token, platform admins by console session (any tenant they name).
            let admin = router.group("auth/admin/api").add(middleware: AdminScopeMiddleware(env: env, transport: transport))
                .group(context: AdminContext.self)
            AdminUserRoutes(env: env).register(on: admin)
            AdminRoleRoutes(env: env).register(on: admin)
            ConsoleRoutes(env: env, transport: transport).register(on: router)
            // Templates are compiled in: a failure here is a bug caught by every test run.
            if let page = try? AdminPageRoutes(env: env) { page.register(on: router) }
            // The MFA routes a login's challenge-stage token may call.
            let pending = router.group("auth/mfa").add(middleware: AuthGuardMiddleware(env: env, transport: transport, allowsPendingMfa: true))
                .group(context: AuthenticatedContext.self)
            MFARoutes(env: env, transport: transport).register(pending: pending, verified: guarded)
        }
        return router
    }

    /// A group of `router` under `path` whose routes run only behind authd's guard (API.md's guard
    /// order: credentials, token or API key, hooks, session, active user, MFA) and get an
    /// `AuthenticatedContext`: for applications that embed AuthHTTP's router and add routes of
    /// their own (with `RequireAuthorization` for roles and permissions).
    public static func guardedGroup(_ router: Router<AuthRequestContext>, path: RouterPath, env: AuthEnvironment) -> RouterGroup<AuthenticatedContext> {
        router.group(path).add(middleware: AuthGuardMiddleware(env: env, transport: TokenTransport(env: env)))
            .group(context: AuthenticatedContext.self)
    }

    /// The router of a runtime.
    public static func makeRouter(runtime: AuthRuntime, metrics: MetricsRoute? = nil) -> Router<AuthRequestContext> {
        let migrator = runtime.migrator
        let serving = runtime.env != nil
        let memory = ReadinessMemory()
        return makeRouter(
            readiness: {
                let status = try await migrator.readiness(memory)
                // Migrated after this process started: it serves health routes only until restarted.
                if !serving, status.isUpToDate { throw AuthError.notReady("migrated after authd started: restart it to serve /auth") }
                return status
            }, env: runtime.env, metrics: metrics)
    }

    /// The application, ready to run as a `Service` or with `runService()`: the runtime's
    /// services (and `extraServices`) run beside the server.
    public static func makeApplication(
        configuration: Configuration, runtime: AuthRuntime, metrics: MetricsRoute?, extraServices: [any Service] = [], logger: Logger
    ) -> some ApplicationProtocol {
        Application(
            router: makeRouter(runtime: runtime, metrics: metrics),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "authd"),
            services: runtime.services + extraServices,
            logger: logger)
    }
}
