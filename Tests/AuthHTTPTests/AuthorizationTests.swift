import AuthCore
import AuthHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

/// Reference behaviour 37 (issue 18 item 2): route requirements on roles (all/any) and
/// permissions (all/any) for routes an application adds behind authd's guard.
@Suite struct AuthorizationTests {
    static let routes: @Sendable (Router<AuthRequestContext>, AuthEnvironment) -> Void = { router, env in
        let app = AuthHTTPServer.guardedGroup(router, path: "app", env: env)
        app.group("admin").add(middleware: RequireAuthorization(roles: ["admin"])).get { _, _ in "admin area" }
        app.group("either").add(middleware: RequireAuthorization(roles: ["admin", "editor"], rolesMatch: .any)).get { _, _ in "either" }
        app.group("both").add(middleware: RequireAuthorization(roles: ["admin", "editor"], rolesMatch: .all)).get { _, _ in "both" }
        app.group("orders").add(middleware: RequireAuthorization(permissions: ["orders.read"])).get { _, _ in "orders" }
        app.group("write").add(middleware: RequireAuthorization(permissions: ["orders.read", "orders.write"], permissionsMatch: .all))
            .get { _, _ in "write" }
    }

    /// Logs `email` in after giving it `roles` (made with `permissions` each).
    static func token(_ app: TestApp, _ client: some TestClientProtocol, _ email: String, roles: [String: [String]]) async throws -> String {
        let signup = try await client.signup(email)
        let idText = try #require(signup.object["user"]?["id"]?.stringValue)
        let id = try #require(UUID(uuidString: idText))
        try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
            for (role, permissions) in roles { try await RoleStore().upsert(role, permissions: permissions, on: tx) }
            try await RoleStore().assign(Array(roles.keys), to: id, on: tx)
        }
        return try #require(try await client.login(email).accessToken)
    }

    @Test func rolesAndPermissionsAreRequiredAsDeclared() async throws {
        try await TestApp.with(routes: Self.routes) { app, client in
            let nobody = try #require(try await client.signup("none@example.com").accessToken)
            let editor = try await Self.token(app, client, "ed@example.com", roles: ["editor": ["orders.read"]])
            let admin = try await Self.token(app, client, "ad@example.com", roles: ["admin": [], "editor": ["orders.read", "orders.write"]])
            func get(_ path: String, _ token: String) async throws -> Reply { try await client.call(.get, path, bearer: token) }
            #expect(try await get("/app/admin", nobody).code == "NO_ROLES_ASSIGNED")
            let missing = try await get("/app/admin", editor)
            #expect(missing.status == .forbidden && missing.code == "MISSING_REQUIRED_ROLES")
            #expect(try await get("/app/admin", admin).status == .ok)
            #expect(try await get("/app/either", editor).status == .ok)
            #expect(try await get("/app/both", editor).code == "MISSING_REQUIRED_ROLES")
            #expect(try await get("/app/both", admin).status == .ok)
            #expect(try await get("/app/orders", editor).status == .ok)
            #expect(try await get("/app/orders", nobody).code == "MISSING_REQUIRED_PERMISSIONS")
            #expect(try await get("/app/write", editor).code == "MISSING_REQUIRED_PERMISSIONS")
            #expect(try await get("/app/write", admin).status == .ok)
            // Behind the guard: no token is 401, not 403.
            #expect(try await client.call(.get, "/app/admin").code == "NO_AUTH_PROVIDED")
        }
    }

    /// Permissions left out of tokens (`includePermissionsInToken = false`) come from the session snapshot.
    @Test func permissionsFallBackToTheSessionSnapshot() async throws {
        try await TestApp.with(configure: { $0.includePermissionsInToken = false }, routes: Self.routes) { app, client in
            let editor = try await Self.token(app, client, "ed@example.com", roles: ["editor": ["orders.read"]])
            #expect(try jwtParts(editor).payload["permissions"] == nil)
            #expect(try await client.call(.get, "/app/orders", bearer: editor).status == .ok)
            #expect(try await client.call(.get, "/app/write", bearer: editor).code == "MISSING_REQUIRED_PERMISSIONS")
        }
    }
}

/// Issue 18 item 1: the registry every tenant starts with, role guards (behaviour 37's
/// `GUARD_MISMATCH`) and inactive roles.
extension AuthorizationTests {
    static let portalRoutes: @Sendable (Router<AuthRequestContext>, AuthEnvironment) -> Void = { router, env in
        let app = AuthHTTPServer.guardedGroup(router, path: "app", env: env)
        app.group("portal").add(middleware: RequireAuthorization(roles: ["admin"], guard: "portal")).get { _, _ in "portal" }
        app.group("web").add(middleware: RequireAuthorization(roles: ["admin"])).get { _, _ in "web" }
    }

    @Test func aRoleOfAnotherGuardIsAGuardMismatch() async throws {
        try await TestApp.with(routes: Self.portalRoutes) { app, client in
            // `admin` of the web guard does not open the portal's routes, nor the reverse.
            let web = try await Self.token(app, client, "web@example.com", roles: ["admin": []])
            let portal = try await Self.token(app, client, "portal@example.com", roles: ["portal:admin": []])
            let mismatch = try await client.call(.get, "/app/portal", bearer: web)
            #expect(mismatch.status == .forbidden && mismatch.code == "GUARD_MISMATCH", "\(mismatch.raw)")
            #expect(try await client.call(.get, "/app/portal", bearer: portal).status == .ok)
            #expect(try await client.call(.get, "/app/web", bearer: portal).code == "MISSING_REQUIRED_ROLES")
            #expect(try await client.call(.get, "/app/web", bearer: web).status == .ok)
            #expect(try jwtParts(portal).payload["roles"] == .array([.string("portal:admin")]))
        }
    }

    @Test func everyTenantStartsWithTheSeededRolesAndAnInactiveRoleGrantsNothing() async throws {
        try await TestApp.with(routes: Self.routes) { app, client in
            let tenant = try await app.tenant("fresh")
            let roles = try await app.env.db.tenantStatements(tenant) { try await RoleRegistryStore().roles(on: $0) }
            let admin = try #require(roles.first { $0.name == Role.tenantAdmin })
            #expect(admin.isSystem && roles.contains { $0.name == Role.member && $0.isSystem })
            #expect(Set(admin.permissions).isSuperset(of: ["auth.admin", "auth.users.write", "auth.audit.read", "users.invite"]))
            let permissions = try await app.env.db.tenantStatements(tenant) {
                try await RoleRegistryStore().permissions(category: "users", search: nil, on: $0)
            }
            #expect(Set(permissions.map(\.name)) == ["auth.users.read", "auth.users.write", "users.invite"])

            let editor = try await Self.token(app, client, "ed@example.com", roles: ["editor": ["orders.read"]])
            #expect(try await client.call(.get, "/app/orders", bearer: editor).status == .ok)
            _ = try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
                try await tx.query("UPDATE roles SET is_active = false WHERE name = 'editor'")
            }
            // Takes effect at the next token: the next login holds no role at all.
            let after = try #require(try await client.login("ed@example.com").accessToken)
            #expect(try jwtParts(after).payload["roles"] == .array([]))
            #expect(try await client.call(.get, "/app/orders", bearer: after).code == "MISSING_REQUIRED_PERMISSIONS")
        }
    }
}

extension AuthorizationTests {
    /// The Swift list of built-in permissions (what no admin hands out without holding) is the
    /// migration's seeded one.
    @Test func theBuiltInListIsTheSeededOne() async throws {
        try await TestApp.with { app, _ in
            let seeded = try await app.env.db.tenantStatements(try await app.defaultTenant()) {
                try await RoleRegistryStore().permissions(category: nil, search: nil, on: $0)
            }.filter(\.isSystem).map(\.name)
            #expect(Set(seeded) == Permission.builtIn)
        }
    }
}
