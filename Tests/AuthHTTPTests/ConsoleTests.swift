import AuthCore
import AuthHTTP
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PGKit
import TestSupport
import Testing

/// Platform admins and the admin console (issue 18 item 4; reference behaviour 40).
@Suite struct ConsoleTests {
    static let secret = "a bootstrap secret of enough length"
    static let password = "operator password 1"

    /// The console cookie a login set, as a request header.
    static func cookie(_ reply: Reply) -> [String: String] {
        let value = reply.setCookies.first { $0.hasPrefix("nest_auth_admin=") }?.split(separator: ";").first.map(String.init) ?? ""
        return ["cookie": value]
    }

    static func bootstrap(_ client: some TestClientProtocol, email: String = "op@example.com") async throws -> [String: String] {
        let made = try await client.call(
            .post, "/auth/admin/signup", json: ["email": .string(email), "password": .string(password), "secretKey": .string(secret)])
        #expect(made.status == .created, "\(made.raw)")
        let login = try await client.call(.post, "/auth/admin/login", json: ["email": .string(email), "password": .string(password)])
        #expect(login.status == .ok, "\(login.raw)")
        return cookie(login)
    }

    @Test func theBootstrapOpensOnlyWithTheSecretAndOnlyOnce() async throws {
        try await TestApp.with { _, client in
            let r = try await client.call(.post, "/auth/admin/signup", json: ["email": "op@example.com", "password": .string(Self.password), "secretKey": "x"])
            #expect(r.code == "ADMIN_CONSOLE_SECRET_NOT_CONFIGURED")
        }
        try await TestApp.with(configure: { $0.adminBootstrapSecret = Self.secret }) { app, client in
            func signup(_ key: String) async throws -> Reply {
                try await client.call(.post, "/auth/admin/signup", json: ["email": "op@example.com", "password": .string(Self.password), "secretKey": .string(key)])
            }
            let wrong = try await signup("not the secret")
            #expect(wrong.status == .unauthorized && wrong.code == "INVALID_SECRET_KEY")
            #expect(try await client.call(.post, "/auth/admin/signup", json: ["email": "op@example.com", "password": "short", "secretKey": .string(Self.secret)])
                .code == "PASSWORD_TOO_SHORT")
            #expect(try await signup(Self.secret).status == .created)
            for key in [Self.secret, "not the secret"] {
                let closed = try await signup(key)
                #expect(closed.status == .forbidden && closed.code == "ADMIN_BOOTSTRAP_CLOSED")
            }
            #expect(try await app.pool.query("SELECT 1 FROM auth.platform_admins").count == 1)
        }
    }

    @Test func loginSetsAnHttpOnlyCookieThatLogoutAndAPasswordChangeEnd() async throws {
        try await TestApp.with(configure: { $0.adminBootstrapSecret = Self.secret }) { app, client in
            #expect(try await client.call(.get, "/auth/admin/api/tenants").status == .unauthorized)
            let made = try await client.call(
                .post, "/auth/admin/signup", json: ["email": "op@example.com", "password": .string(Self.password), "secretKey": .string(Self.secret)])
            #expect(made.status == .created)
            let wrong = try await client.call(.post, "/auth/admin/login", json: ["email": "op@example.com", "password": "wrong password here"])
            #expect(wrong.code == "INVALID_CREDENTIALS" && wrong.setCookies.isEmpty)
            let login = try await client.call(.post, "/auth/admin/login", json: ["email": "OP@example.com", "password": .string(Self.password)])
            let set = try #require(login.setCookies.first { $0.hasPrefix("nest_auth_admin=") })
            #expect(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/auth/admin"))
            let cookie = Self.cookie(login)
            #expect(try await client.call(.get, "/auth/admin/me", headers: cookie).object["admin"]?["email"] == "op@example.com")
            // Stored only as a digest.
            let token = String(cookie["cookie"]!.dropFirst("nest_auth_admin=".count))
            let dump = try app.db.dump()
            #expect(!dump.contains(token))
            // A user's access token is not a console credential, nor is a made-up value.
            let userToken = try #require(try await client.signup("ann@example.com").accessToken)
            #expect(try await client.call(.get, "/auth/admin/api/tenants", headers: ["cookie": "nest_auth_admin=\(userToken)"]).status == .unauthorized)
            #expect(try await client.call(.get, "/auth/admin/api/tenants", headers: ["cookie": "nest_auth_admin=forged"]).status == .unauthorized)
            // A cross-site write is refused.
            let crossSite = try await client.call(.post, "/auth/admin/api/tenants", json: ["slug": "x"], headers: cookie.merging(["origin": "https://evil.example"]) { a, _ in a })
            #expect(crossSite.code == "CSRF_ORIGIN_REJECTED")

            let second = try #require(try await client.call(.post, "/auth/admin/login", json: ["email": "op@example.com", "password": .string(Self.password)]).setCookies.first)
            #expect(try await client.call(.post, "/auth/admin/logout", headers: cookie).status == .ok)
            #expect(try await client.call(.get, "/auth/admin/me", headers: cookie).status == .unauthorized)
            let secondCookie = ["cookie": String(second.split(separator: ";")[0])]
            #expect(try await client.call(.get, "/auth/admin/me", headers: secondCookie).status == .ok)
            let changed = try await client.call(
                .post, "/auth/admin/change-password", json: ["currentPassword": .string(Self.password), "newPassword": "a new operator password"],
                headers: secondCookie)
            #expect(changed.status == .ok, "\(changed.raw)")
            #expect(try await client.call(.get, "/auth/admin/me", headers: secondCookie).status == .unauthorized)
            #expect(try await client.call(.post, "/auth/admin/login", json: ["email": "op@example.com", "password": "a new operator password"]).status == .ok)
        }
    }

    @Test func adminsManageTenantsAndEachOtherButNeverTheLastAdmin() async throws {
        try await TestApp.with(configure: { $0.adminBootstrapSecret = Self.secret }) { app, client in
            let cookie = try await Self.bootstrap(client)
            func call(_ method: HTTPRequest.Method, _ path: String, _ json: JSONValue? = nil) async throws -> Reply {
                try await client.call(method, "/auth/admin/api" + path, json: json, headers: cookie)
            }
            let created = try await call(.post, "/tenants", ["slug": "acme", "name": "Acme"])
            #expect(created.status == .created, "\(created.raw)")
            let id = try #require(created.object["id"]?.stringValue)
            #expect(try await call(.post, "/tenants", ["slug": "acme"]).code == "TENANT_ALREADY_EXISTS")
            #expect(try await call(.post, "/tenants", ["slug": "Not A Slug"]).code == "INVALID_SLUG_FORMAT")
            let annToken = try #require(try await client.signup("ann@example.com", tenant: "acme").accessToken)
            let lookup = try await call(.get, "/platform/users?email=ann@example.com")
            #expect(lookup.object["data"]?.arrayValue?.first?["tenant"]?["slug"] == "acme", "\(lookup.raw)")
            // Disabled: the tenant's logins and tokens stop (a login answers as for a wrong
            // password: it does not tell which tenants exist).
            let disabled = try await call(.patch, "/tenants/\(id)", ["isActive": false])
            #expect(disabled.object["status"] == "disabled")
            let refused = try await client.login("ann@example.com", tenant: "acme")
            #expect(refused.code == "INVALID_CREDENTIALS", "\(refused.raw)")
            let me = try await client.call(.get, "/auth/me", bearer: annToken)
            #expect(me.status == .unauthorized, "\(me.raw)")
            _ = try await call(.patch, "/tenants/\(id)", ["isActive": true])
            #expect(try await client.login("ann@example.com", tenant: "acme").status == .ok)
            let defaultID = try await app.defaultTenant().id.uuidString
            #expect(try await call(.patch, "/tenants/\(defaultID)", ["isActive": false]).code == "TENANT_PROTECTED")
            #expect(try await call(.delete, "/tenants/\(id)").status == .ok)
            #expect(try await call(.get, "/tenants").body.arrayValue?.contains { $0["slug"] == "acme" } == false)

            let other = try await call(.post, "/admins", ["email": "second@example.com", "password": "another operator pw"])
            #expect(other.status == .created, "\(other.raw)")
            #expect(try await call(.post, "/admins", ["email": "second@example.com", "password": "another operator pw"]).code == "ADMIN_USER_EXISTS")
            let admins = try await call(.get, "/admins").body.arrayValue ?? []
            let first = try #require(admins.first { $0["email"] == "op@example.com" }?["id"]?.stringValue)
            let secondID = try #require(other.object["id"]?.stringValue)
            #expect(try await call(.delete, "/admins/\(secondID)").status == .ok)
            let last = try await call(.delete, "/admins/\(first)")
            #expect(last.status == .conflict && last.code == "ADMIN_LAST_REMAINING")
            #expect(try await call(.delete, "/admins/\(UUID())").code == "ADMIN_USER_NOT_FOUND")
        }
    }
}

extension ConsoleTests {
    /// A platform admin uses the tenant admin API in any tenant, named by `x-tenant-id`, with
    /// every permission; the trail names them as the actor.
    @Test func platformAdminsAdministerTheTenantTheyName() async throws {
        try await TestApp.with(configure: { $0.adminBootstrapSecret = Self.secret }) { app, client in
            let cookie = try await Self.bootstrap(client)
            let b = try await app.tenant("b")
            let bob = try #require(try await client.signup("bob@example.com", tenant: b.slug).accessToken)
            let missing = try await client.call(.get, "/auth/admin/api/users", headers: cookie)
            #expect(missing.status == .badRequest && missing.code == "TENANT_ID_REQUIRED")
            var headers = cookie
            headers["x-tenant-id"] = b.slug
            let users = try await client.call(.get, "/auth/admin/api/users", headers: headers)
            let bobID = try #require(users.object["data"]?.arrayValue?.first?["id"]?.stringValue, "\(users.raw)")
            #expect(try await client.call(.delete, "/auth/admin/api/users/\(bobID)/sessions", headers: headers).object["revoked"] == .int(1))
            #expect(try await client.call(.get, "/auth/me", bearer: bob).status == .unauthorized)
            let trail = try await client.call(.get, "/auth/admin/api/audit?kind=auth.session.revoked", headers: headers)
            #expect(trail.object["data"]?.arrayValue?.first?["actor"]?["type"] == "platform_admin", "\(trail.raw)")
            headers["x-tenant-id"] = "no-such-tenant"
            #expect(try await client.call(.get, "/auth/admin/api/users", headers: headers).code == "TENANT_NOT_FOUND")
            // Without a valid console session the cookie is nothing.
            #expect(try await client.call(.get, "/auth/admin/api/users", headers: ["cookie": "nest_auth_admin=forged", "x-tenant-id": b.slug])
                .status == .unauthorized)
        }
    }
}

extension ConsoleTests {
    /// The page: sign-in forms for nobody, a tenant admin's own tenant only (their access-token
    /// cookie), a 403 for a user without `auth.admin`; never cached or framed.
    @Test func theAdminPageShowsEachViewerTheirOwnTenant() async throws {
        try await TestApp.with(configure: { $0.secureCookies = false }) { app, client in
            let signedOut = try await client.call(.get, "/auth/admin")
            #expect(signedOut.status == .ok && signedOut.raw.contains("id=\"platform-login\""))
            #expect(signedOut.headers[HTTPField.Name("content-security-policy")!]?.contains("frame-ancestors 'none'") == true)
            #expect(signedOut.headers[.cacheControl] == "no-store")
            let a = try await app.tenant("a")
            let b = try await app.tenant("b")
            let admin = try await AdminAPITests.account(app, client, "admin@example.com", tenant: a, roles: ["tenant_admin"])
            _ = try await client.signup("alice@example.com", tenant: a.slug)
            _ = try await client.signup("bob@example.com", tenant: b.slug)
            let page = try await client.call(.get, "/auth/admin", headers: ["cookie": "accessToken=\(admin.token)"])
            #expect(page.status == .ok && page.raw.contains("alice@example.com") && !page.raw.contains("bob@example.com"), "\(page.raw)")
            #expect(page.raw.contains("data-mode=\"tenant\"") && !page.raw.contains("tenant-switch"))
            let member = try await AdminAPITests.account(app, client, "member@example.com", tenant: a)
            #expect(try await client.call(.get, "/auth/admin", headers: ["cookie": "accessToken=\(member.token)"]).status == .forbidden)
        }
    }
}

extension ConsoleTests {
    /// Requirement 23 for platform admins: their sign-ins (failed ones too), admin and tenant
    /// changes land in the append-only platform trail, in the change's transaction.
    @Test func platformActionsAreAuditedAppendOnly() async throws {
        try await TestApp.with(configure: { $0.adminBootstrapSecret = Self.secret }) { app, client in
            let cookie = try await Self.bootstrap(client)
            _ = try await client.call(.post, "/auth/admin/login", json: ["email": "op@example.com", "password": "wrong password here"])
            let tenant = try await client.call(.post, "/auth/admin/api/tenants", json: ["slug": "acme"], headers: cookie)
            let id = try #require(tenant.object["id"]?.stringValue)
            _ = try await client.call(.patch, "/auth/admin/api/tenants/\(id)", json: ["isActive": false], headers: cookie)
            _ = try await client.call(.delete, "/auth/admin/api/tenants/\(id)", headers: cookie)
            _ = try await client.call(.post, "/auth/admin/api/tenants", json: ["slug": "Bad Slug"], headers: cookie)  // refused: no row
            let trail = try await client.call(.get, "/auth/admin/api/platform/audit", headers: cookie)
            let kinds = (trail.object["data"]?.arrayValue ?? []).compactMap { $0["kind"]?.stringValue }
            #expect(kinds == [
                "auth.platform.tenant_deleted", "auth.platform.tenant_updated", "auth.platform.tenant_created", "auth.platform.login_failed",
                "auth.platform.login", "auth.platform.admin_created",
            ], "\(trail.raw)")
            let failed = try #require(trail.object["data"]?.arrayValue?.first { $0["kind"] == "auth.platform.login_failed" })
            #expect(failed["outcome"] == "failure" && !failed.jsonText.contains("wrong password"))
            #expect(trail.object["data"]?.arrayValue?.first?["actor"]?["type"] == "platform_admin")
            for sql in ["UPDATE auth.platform_audit_log SET outcome = 'failure'", "DELETE FROM auth.platform_audit_log", "TRUNCATE auth.platform_audit_log"] {
                let error = await #expect(throws: PGError.self, "\(sql)") { try await app.pool.query(sql) }
                #expect(error?.sqlState == "42501")
            }
        }
    }
}

extension ConsoleTests {
    /// The page shows only the sections the viewer's permissions open.
    @Test func thePageShowsOnlyWhatTheViewerMayRead() async throws {
        try await TestApp.with(configure: { $0.secureCookies = false }) { app, client in
            let auditor = try await AdminAPITests.holder(app, client, "auditor@example.com", ["auth.admin", "auth.audit.read"])
            let page = try await client.call(.get, "/auth/admin", headers: ["cookie": "accessToken=\(auditor.token)"])
            #expect(page.status == .ok && page.raw.contains("id=\"audit\""))
            #expect(!page.raw.contains("id=\"users\"") && !page.raw.contains("id=\"roles\"") && !page.raw.contains("id=\"dead\""))
            #expect(!page.raw.contains("auditor@example.com</a>"))
        }
    }
}
