import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird
import Mustache

/// The admin web page (`GET /auth/admin`, issue 18 item 7): server-rendered from swift-mustache
/// templates with the same flows as the admin API, for a platform admin (console cookie; any
/// tenant, picked by `?tenant=`) or a tenant admin (the access-token cookie of a cookie-mode
/// login; their own tenant). Without either it shows the sign-in forms. Its script only signs in
/// and out and calls the JSON API for revokes and retries.
struct AdminPageRoutes: Sendable {
    let env: AuthEnvironment
    let library: MustacheLibrary

    init(env: AuthEnvironment) throws {
        self.env = env
        library = MustacheLibrary(templates: [
            "layout": try MustacheTemplate(string: AdminPageTemplates.layout),
            "footer": try MustacheTemplate(string: AdminPageTemplates.footer),
            "login": try MustacheTemplate(string: AdminPageTemplates.login),
            "dashboard": try MustacheTemplate(string: AdminPageTemplates.dashboard),
            "user": try MustacheTemplate(string: AdminPageTemplates.user),
        ])
    }

    func register(on router: Router<AuthRequestContext>) {
        router.get("auth/admin", use: dashboard)
        router.get("auth/admin/users/:id", use: user)
        router.get("auth/admin/app.js") { _, _ in Self.asset(AdminPageTemplates.script, type: "text/javascript; charset=utf-8") }
        router.get("auth/admin/app.css") { _, _ in Self.asset(AdminPageTemplates.css, type: "text/css; charset=utf-8") }
    }

    /// Who is looking, and at which tenant.
    struct Viewer {
        let scope: AdminScope
        let who: String
        let platform: Bool
        let tenants: [Tenant]
    }

    @Sendable func dashboard(_ request: Request, context: AuthRequestContext) async throws -> Response {
        guard let viewer = try await viewer(request, context: context) else { return page("login", [:], viewer: nil) }
        // Each section only for a viewer holding its permission, as the API would answer.
        let can = { (permission: String) in (try? viewer.scope.require([permission])) != nil }
        var values: [String: Any] = [
            "canUsers": can("auth.users.read"), "canRoles": can("auth.roles.read"), "canAudit": can("auth.audit.read"),
            "canEvents": can("auth.events.read"),
        ]
        if can("auth.users.read") { values.merge(try await users(viewer, request: request)) { $1 } }
        if can("auth.roles.read") { values["roles"] = try await roles(viewer) }
        if can("auth.audit.read") { values["audit"] = try await audit(viewer) }
        if can("auth.events.read") { values["dead"] = try await deadLetters(viewer) }
        return page("dashboard", values, viewer: viewer)
    }

    func users(_ viewer: Viewer, request: Request) async throws -> [String: Any] {
        let query = try QueryFields(request).string("q", maxLength: 320)
        let list = try await AdminUserFlow(env: env).list(viewer.scope, filter: .init(search: query), page: 1, limit: 50)
        let users: [[String: Any]] = (list["data"]?.arrayValue ?? []).map { u in
            [
                "id": u["id"]?.stringValue ?? "", "email": u["email"]?.stringValue ?? "", "phone": u["phone"]?.stringValue ?? "",
                "active": u["isActive"]?.boolValue == true ? "yes" : "no", "createdAt": u["createdAt"]?.stringValue ?? "",
                "roles": (u["roles"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                "tenantQuery": tenantQuery(viewer),
            ]
        }
        return ["users": users, "total": list["meta"]?["total"]?.intValue.map(String.init) ?? "0", "query": query ?? ""]
    }

    func roles(_ viewer: Viewer) async throws -> [[String: Any]] {
        try await AdminRoleFlow(env: env).roles(viewer.scope).map { r in
            [
                "reference": r["reference"]?.stringValue ?? "", "system": r["isSystem"]?.boolValue == true ? "yes" : "",
                "active": r["isActive"]?.boolValue == true ? "yes" : "no",
                "permissions": (r["permissions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
            ]
        }
    }

    func audit(_ viewer: Viewer) async throws -> [[String: Any]] {
        try await env.db.tenantStatements(viewer.scope.tenant) {
            try await AuditLogStore().rows(.init(limit: 25), on: $0)
        }.map { a in
            [
                "createdAt": a["createdAt"]?.stringValue ?? "", "kind": a["kind"]?.stringValue ?? "", "outcome": a["outcome"]?.stringValue ?? "",
                "userId": a["userId"]?.stringValue ?? "", "ip": a["ipAddress"]?.stringValue ?? "",
                "actor": [a["actor"]?["type"]?.stringValue, a["actor"]?["id"]?.stringValue].compactMap { $0 }.joined(separator: " "),
            ]
        }
    }

    func deadLetters(_ viewer: Viewer) async throws -> [[String: Any]] {
        try await env.db.statements {
            try await DeliveryStore().list(tenantID: viewer.scope.tenant.id, status: "dead", group: nil, limit: 50, on: $0)
        }.map { d in
            [
                "group": d["group"]?.stringValue ?? "", "eventId": d["eventId"]?.stringValue ?? "", "type": d["type"]?.stringValue ?? "",
                "attempts": d["attempts"]?.intValue.map(String.init) ?? "", "error": d["lastError"]?.stringValue ?? "",
            ]
        }
    }

    @Sendable func user(_ request: Request, context: AuthRequestContext) async throws -> Response {
        guard let viewer = try await viewer(request, context: context) else { return page("login", [:], viewer: nil) }
        try viewer.scope.require(["auth.users.read", "auth.sessions.read"])
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw AuthError.invalidInput("id", "must be a user id") }
        let detail = try await AdminUserFlow(env: env).get(viewer.scope, id: id)
        let u = detail["user"]?.objectValue ?? [:]
        let sessions: [[String: Any]] = (detail["sessions"]?.arrayValue ?? []).map { s in
            [
                "id": s["id"]?.stringValue ?? "", "userId": id.uuidString.lowercased(),
                "device": s["deviceName"]?.stringValue ?? s["userAgent"]?.stringValue ?? "", "ip": s["ipAddress"]?.stringValue ?? "",
                "createdAt": s["createdAt"]?.stringValue ?? "", "lastActiveAt": s["lastActiveAt"]?.stringValue ?? "",
            ]
        }
        return page(
            "user",
            [
                "id": id.uuidString.lowercased(), "email": u["email"]?.stringValue ?? "", "phone": u["phone"]?.stringValue ?? "",
                "active": u["isActive"]?.boolValue == true ? "yes" : "no", "mfa": u["isMfaEnabled"]?.boolValue == true ? "on" : "off",
                "roles": (u["roles"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", "),
                "createdAt": u["createdAt"]?.stringValue ?? "", "sessions": sessions, "sessionCount": "\(sessions.count)",
                "tenantQuery": tenantQuery(viewer),
            ], viewer: viewer)
    }

    /// The console session (platform admin), else a cookie-mode tenant admin; nil: sign in.
    func viewer(_ request: Request, context: AuthRequestContext) async throws -> Viewer? {
        if let cookie = request.cookies[ConsoleGuardMiddleware.cookieName]?.value, cookie.utf8.count <= 128,
           let console = try? await PlatformAdminFlow(env: env).authenticate(token: cookie)
        {
            let named = try QueryFields(request).string("tenant", maxLength: 64) ?? TenantSlug.defaultTenant.value
            let tenant = try await env.tenants.resolve(named)
            let scope = AdminScope(platformAdmin: console.admin, tenant: tenant)
            return Viewer(scope: scope, who: console.admin.email, platform: true, tenants: try await env.registry.list().filter { $0.status == .active })
        }
        guard let access = request.cookies["accessToken"]?.value, !access.isEmpty else { return nil }
        let auth = context.authRequest(request, proxies: env.settings.trustedProxies)
        guard let principal = try? await Authenticator(env: env).authenticate(accessToken: access, request: auth),
              !principal.mfaPending(env.settings)
        else { return nil }
        // The guard's rule for a tenant that requires MFA holds here too.
        if env.settings(for: principal.tenant).mfaRequired, !principal.user.isMfaEnabled { throw AuthError(.mfaSetupRequired) }
        let scope = AdminScope(principal: principal, permissions: principal.permissions)
        try scope.require([Permission.admin])
        return Viewer(scope: scope, who: principal.user.email ?? principal.user.phone ?? "", platform: false, tenants: [principal.tenant])
    }

    func tenantQuery(_ viewer: Viewer) -> String {
        viewer.platform ? "?tenant=" + viewer.scope.tenant.slug : ""
    }

    /// A rendered page: never cached, never framed, scripts and styles from this origin only.
    func page(_ template: String, _ values: [String: Any], viewer: Viewer?) -> Response {
        var context = values
        context["mode"] = viewer.map { $0.platform ? "platform" : "tenant" } ?? "signed-out"
        if let viewer {
            context["who"] = viewer.who
            context["tenant"] = ["slug": viewer.scope.tenant.slug, "name": viewer.scope.tenant.name]
            if viewer.platform {
                context["platform"] = true
                context["tenants"] = viewer.tenants.map { t -> [String: Any] in
                    ["slug": t.slug, "name": t.name, "selected": t.id == viewer.scope.tenant.id]
                }
            }
        }
        let html = library.render(context, withTemplate: template) ?? ""
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                HTTPField.Name("content-security-policy")!: "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
                HTTPField.Name("x-frame-options")!: "DENY", HTTPField.Name("x-content-type-options")!: "nosniff",
            ],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-cache", HTTPField.Name("x-content-type-options")!: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
