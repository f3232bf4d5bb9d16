import AuthCore
import AuthCrypto
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

/// The tenant admin API (issue 18 item 3; requirement 16): users, sessions, roles, permissions
/// and the audit trail, each behind `auth.admin` and its own permission, in the token's tenant.
@Suite struct AdminAPITests {
    /// Signs `email` up in `tenant` (the default when nil) with `roles`, logs in; its token and id.
    static func account(
        _ app: TestApp, _ client: some TestClientProtocol, _ email: String, tenant: Tenant? = nil, roles: [String] = []
    ) async throws -> (token: String, id: UUID) {
        let t: Tenant
        if let tenant { t = tenant } else { t = try await app.defaultTenant() }
        let signup = try await client.signup(email, tenant: tenant?.slug)
        let idText = try #require(signup.object["user"]?["id"]?.stringValue, "\(signup.raw)")
        let id = try #require(UUID(uuidString: idText))
        if !roles.isEmpty { _ = try await app.env.db.inTenant(t) { tx in try await RoleStore().assign(roles, to: id, on: tx) } }
        let token = try #require(try await client.login(email, tenant: tenant?.slug).accessToken)
        return (token, id)
    }

    @Test func onlyHoldersOfThePermissionsGetIn() async throws {
        try await TestApp.with { app, client in
            let member = try await Self.account(app, client, "member@example.com", roles: ["member"])
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            #expect(try await client.call(.get, "/auth/admin/api/users").code == "NO_AUTH_PROVIDED")
            let refused = try await client.call(.get, "/auth/admin/api/users", bearer: member.token)
            #expect(refused.status == .forbidden && refused.code == "MISSING_REQUIRED_PERMISSIONS")
            // auth.admin alone opens nothing else.
            try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
                try await RoleStore().upsert("viewer", permissions: ["auth.admin", "auth.users.read"], on: tx)
            }
            let viewer = try await Self.account(app, client, "viewer@example.com", roles: ["viewer"])
            #expect(try await client.call(.get, "/auth/admin/api/users", bearer: viewer.token).status == .ok)
            let write = try await client.call(.post, "/auth/admin/api/users", json: ["email": "x@example.com"], bearer: viewer.token)
            #expect(write.code == "MISSING_REQUIRED_PERMISSIONS")
            #expect(try await client.call(.get, "/auth/admin/api/roles", bearer: viewer.token).code == "MISSING_REQUIRED_PERMISSIONS")
            #expect(try await client.call(.get, "/auth/admin/api/users", bearer: admin.token).status == .ok)
        }
    }

    @Test func usersAreListedCreatedChangedAndDeletedThroughTheLifecycle() async throws {
        var hooks = AuthHooks()
        hooks.user.beforeDelete = { user, _ in
            if user.email == "keep@example.com" { throw AuthError.rejection(code: "KEEP_ME", message: "kept") }
        }
        try await TestApp.with(hooks: hooks) { app, client in
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            for i in 0..<3 { _ = try await client.signup("user\(i)@example.com") }
            let created = try await client.call(
                .post, "/auth/admin/api/users",
                json: ["email": "New@Example.com", "password": "a long enough secret", "roles": ["member"], "metadata": ["team": "blue"]],
                bearer: admin.token)
            #expect(created.status == .created, "\(created.raw)")
            #expect(created.object["email"] == "new@example.com" && created.object["roles"] == .array(["member"]))
            let newID = try #require(created.object["id"]?.stringValue)
            #expect(try await client.login("new@example.com", "a long enough secret").status == .ok)
            // An unknown role is refused and creates nothing.
            let typo = try await client.call(.post, "/auth/admin/api/users", json: ["email": "t@example.com", "roles": ["membr"]], bearer: admin.token)
            #expect(typo.code == "ROLE_NOT_FOUND")

            let page = try await client.call(.get, "/auth/admin/api/users?limit=2&page=2", bearer: admin.token)
            #expect(page.object["meta"]?["total"] == .int(5) && page.object["meta"]?["totalPages"] == .int(3), "\(page.raw)")
            #expect(page.object["data"]?.arrayValue?.count == 2)
            let search = try await client.call(.get, "/auth/admin/api/users?search=USER1", bearer: admin.token)
            #expect(search.object["data"]?.arrayValue?.compactMap { $0["email"]?.stringValue } == ["user1@example.com"])
            let byRole = try await client.call(.get, "/auth/admin/api/users?role=member", bearer: admin.token)
            #expect(byRole.object["meta"]?["total"] == .int(1))
            #expect(try await client.call(.get, "/auth/admin/api/users?status=nope", bearer: admin.token).code == "INVALID_INPUT")
            #expect(try await client.call(.get, "/auth/admin/api/users?limit=1000", bearer: admin.token).code == "INVALID_INPUT")

            let detail = try await client.call(.get, "/auth/admin/api/users/\(newID)", bearer: admin.token)
            #expect(detail.object["loginMethods"]?["hasPassword"] == .bool(true))
            #expect(detail.object["sessions"]?.arrayValue?.count == 1)

            // Disabling ends the user's sessions at once.
            let user0 = try #require(try await client.login("user0@example.com").accessToken)
            let user0ID = try #require(try await client.call(.get, "/auth/me", bearer: user0).object["id"]?.stringValue)
            let disabled = try await client.call(.patch, "/auth/admin/api/users/\(user0ID)", json: ["isActive": false], bearer: admin.token)
            #expect(disabled.object["isActive"] == .bool(false), "\(disabled.raw)")
            #expect(try await client.call(.get, "/auth/me", bearer: user0).status == .unauthorized)
            #expect(try await client.login("user0@example.com").status == .unauthorized)
            // Roles are replaced; the next login's token carries them.
            let promoted = try await client.call(.patch, "/auth/admin/api/users/\(newID)", json: ["roles": ["tenant_admin"]], bearer: admin.token)
            #expect(promoted.object["roles"] == .array(["tenant_admin"]))
            let again = try #require(try await client.login("new@example.com", "a long enough secret").accessToken)
            #expect(try jwtParts(again).payload["roles"] == .array(["tenant_admin"]))
            // A password set by an admin ends every session and API key and works at once.
            let key = try #require(try await client.call(.post, "/auth/api-keys", json: ["name": "ci"], bearer: again).object["key"]?.stringValue)
            #expect(try await client.call(.get, "/auth/me", headers: ["authorization": "ApiKey \(key)"]).status == .ok)
            _ = try await client.call(.patch, "/auth/admin/api/users/\(newID)", json: ["password": "another long secret"], bearer: admin.token)
            #expect(try await client.call(.get, "/auth/me", bearer: again).status == .unauthorized)
            #expect(try await client.call(.get, "/auth/me", headers: ["authorization": "ApiKey \(key)"]).status == .unauthorized)
            #expect(try await client.login("new@example.com", "another long secret").status == .ok)

            // Delete runs the hooks in its transaction: a throwing beforeDelete keeps the user.
            _ = try await client.signup("keep@example.com")
            let keep = try await client.call(.get, "/auth/admin/api/users?search=keep", bearer: admin.token)
            let keepID = try #require(keep.object["data"]?.arrayValue?.first?["id"]?.stringValue)
            let refused = try await client.call(.delete, "/auth/admin/api/users/\(keepID)", bearer: admin.token)
            #expect(refused.code == "KEEP_ME")
            #expect(try await client.login("keep@example.com").status == .ok)
            #expect(try await client.call(.delete, "/auth/admin/api/users/\(newID)", bearer: admin.token).status == .ok)
            #expect(try await client.call(.get, "/auth/admin/api/users/\(newID)", bearer: admin.token).code == "USER_NOT_FOUND")
        }
    }

    /// Requirement 16: one session, one user's, or the whole tenant's.
    @Test func adminsRevokeOneSessionAUsersOrEveryones() async throws {
        try await TestApp.with { app, client in
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            let ann = try await Self.account(app, client, "ann@example.com")
            let annSecond = try #require(try await client.login("ann@example.com").accessToken)
            let bob = try await Self.account(app, client, "bob@example.com")
            let sessions = try await client.call(.get, "/auth/admin/api/users/\(ann.id)/sessions", bearer: admin.token)
            let ids = sessions.body.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(ids.count == 3, "\(sessions.raw)")  // signup, and two logins
            let first = try jwtParts(ann.token).payload["sessionId"]?.stringValue ?? ""
            #expect(try await client.call(.delete, "/auth/admin/api/users/\(ann.id)/sessions/\(first)", bearer: admin.token).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: ann.token).status == .unauthorized)
            #expect(try await client.call(.get, "/auth/me", bearer: annSecond).status == .ok)
            // Another user's session id under ann is not found, and stays live.
            let bobSession = try jwtParts(bob.token).payload["sessionId"]?.stringValue ?? ""
            #expect(try await client.call(.delete, "/auth/admin/api/users/\(ann.id)/sessions/\(bobSession)", bearer: admin.token).code == "NOT_FOUND")
            #expect(try await client.call(.get, "/auth/me", bearer: bob.token).status == .ok)
            let all = try await client.call(.delete, "/auth/admin/api/users/\(ann.id)/sessions", bearer: admin.token)
            #expect(all.object["revoked"] == .int(2))
            #expect(try await client.call(.get, "/auth/me", bearer: annSecond).status == .unauthorized)
            let everyone = try await client.call(.delete, "/auth/admin/api/sessions", bearer: admin.token)
            #expect(everyone.object["revoked"]?.intValue ?? 0 >= 2)
            #expect(try await client.call(.get, "/auth/me", bearer: bob.token).status == .unauthorized)
            #expect(try await client.call(.get, "/auth/me", bearer: admin.token).status == .unauthorized)
        }
    }

    @Test func rolesAndPermissionsAreManagedWithTheirRules() async throws {
        try await TestApp.with(configure: { $0.revokeSessionsOnRoleChange = true }) { app, client in
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            func call(_ method: HTTPRequest.Method, _ path: String, _ json: JSONValue? = nil) async throws -> Reply {
                try await client.call(method, "/auth/admin/api" + path, json: json, bearer: admin.token)
            }
            #expect(try await call(.post, "/roles", ["name": "editor", "permissions": ["orders.read"]]).code == "INVALID_INPUT")
            #expect(try await call(.post, "/permissions", ["name": "orders.read", "category": "orders"]).status == .created)
            let role = try await call(.post, "/roles", ["name": "editor", "permissions": ["orders.read"]])
            #expect(role.status == .created, "\(role.raw)")
            let roleID = try #require(role.object["id"]?.stringValue)
            #expect(try await call(.post, "/roles", ["name": "editor"]).code == "ROLE_ALREADY_EXISTS")
            #expect(try await call(.post, "/roles", ["name": "bad name"]).code == "INVALID_INPUT")
            #expect(try await call(.patch, "/roles/\(roleID)", ["name": "writer"]).code == "ROLE_NAME_UPDATE_NOT_ALLOWED")
            #expect(try await call(.patch, "/roles/\(roleID)", ["guard": "portal"]).code == "ROLE_GUARD_UPDATE_NOT_ALLOWED")

            let ed = try await Self.account(app, client, "ed@example.com", roles: ["editor"])
            #expect(try jwtParts(ed.token).payload["permissions"] == .array(["orders.read"]))
            // With revoke-on-change, changing what the role grants ends its holders' sessions.
            let changed = try await call(.patch, "/roles/\(roleID)", ["permissions": [], "description": "Edits"])
            #expect(changed.object["permissions"] == .array([]) && changed.object["description"] == "Edits")
            #expect(try await client.call(.get, "/auth/me", bearer: ed.token).status == .unauthorized)

            let roles = try await call(.get, "/roles")
            let system = try #require(roles.body.arrayValue?.first { $0["name"] == "tenant_admin" }?["id"]?.stringValue)
            #expect(try await call(.delete, "/roles/\(system)").code == "SYSTEM_ROLE_PROTECTED")
            #expect(try await call(.patch, "/roles/\(system)", ["isActive": false]).code == "SYSTEM_ROLE_PROTECTED")
            let builtIn = try await call(.get, "/permissions?category=users")
            let builtInID = try #require(builtIn.body.arrayValue?.first?["id"]?.stringValue)
            #expect(try await call(.delete, "/permissions/\(builtInID)").code == "SYSTEM_ROLE_PROTECTED")
            #expect(try await call(.delete, "/roles/\(roleID)").status == .ok)
            #expect(try await call(.get, "/roles/\(roleID)").code == "ROLE_NOT_FOUND")
        }
    }

    /// Admin actions reach the audit trail with the admin as actor.
    @Test func adminActionsAreAuditedWithTheirActor() async throws {
        try await TestApp.with { app, client in
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            let ann = try await Self.account(app, client, "ann@example.com")
            _ = try await client.call(.patch, "/auth/admin/api/users/\(ann.id)", json: ["metadata": ["plan": "pro"]], bearer: admin.token)
            _ = try await client.call(.delete, "/auth/admin/api/users/\(ann.id)/sessions", bearer: admin.token)
            let trail = try await client.call(.get, "/auth/admin/api/audit?userId=\(ann.id)&kind=auth.*", bearer: admin.token)
            let rows = trail.object["data"]?.arrayValue ?? []
            let updated = try #require(rows.first { $0["kind"] == "auth.user.updated" }, "\(trail.raw)")
            #expect(updated["actor"]?["id"]?.stringValue == admin.id.uuidString.lowercased())
            let revoked = try #require(rows.first { $0["kind"] == "auth.session.revoked" })
            #expect(revoked["actor"]?["id"]?.stringValue == admin.id.uuidString.lowercased())
            #expect(revoked["data"]?["reason"] == "revoked_by_admin")
            let failures = try await client.call(.get, "/auth/admin/api/audit?outcome=failure", bearer: admin.token)
            #expect(failures.object["data"]?.arrayValue?.isEmpty == true)
            #expect(try await client.call(.get, "/auth/admin/api/audit?from=yesterday", bearer: admin.token).code == "INVALID_INPUT")
            // Time windows: an hour around now holds
            // every row so far, one ending an hour ago none, one starting in an hour none.
            let all = try await client.call(.get, "/auth/admin/api/audit?limit=100", bearer: admin.token).object["data"]?.arrayValue ?? []
            let hourAgo = ISO8601.format(Date().addingTimeInterval(-3600)), inAnHour = ISO8601.format(Date().addingTimeInterval(3600))
            func window(_ query: String) async throws -> [JSONValue] {
                try await client.call(.get, "/auth/admin/api/audit?limit=100&\(query)", bearer: admin.token).object["data"]?.arrayValue ?? []
            }
            #expect(!all.isEmpty)
            #expect(try await window("from=\(hourAgo)&to=\(inAnHour)") == all)
            #expect(try await window("to=\(hourAgo)").isEmpty)
            #expect(try await window("from=\(inAnHour)").isEmpty)
        }
    }
}

/// Requirement 17 and the isolation matrix: a tenant-A admin or user, acting on tenant-B
/// ids (in the path, the body or `x-tenant-id`), is refused and changes nothing in B.
extension AdminAPITests {
    @Test func tenantAUsersAndAdminsCannotReachTenantB() async throws {
        try await TestApp.with { app, client in
            let a = try await app.tenant("a")
            let b = try await app.tenant("b")
            let adminA = try await Self.account(app, client, "admin@example.com", tenant: a, roles: ["tenant_admin"])
            let userA = try await Self.account(app, client, "ann@example.com", tenant: a)
            let adminB = try await Self.account(app, client, "admin@example.com", tenant: b, roles: ["tenant_admin"])
            let bob = try await Self.account(app, client, "bob@example.com", tenant: b)
            let bobSession = try #require(try jwtParts(bob.token).payload["sessionId"]?.stringValue)
            let bobKey = try await client.call(.post, "/auth/api-keys", json: ["name": "b"], bearer: bob.token)
            let bobKeyID = try #require(bobKey.object["id"]?.stringValue, "\(bobKey.raw)")
            let roleB = try await client.call(.post, "/auth/admin/api/roles", json: ["name": "b-only"], bearer: adminB.token)
            let roleBID = try #require(roleB.object["id"]?.stringValue, "\(roleB.raw)")
            let bobDevice = try #require(
                try await client.call(.post, "/auth/mfa/setup-totp", json: ["name": "b"], bearer: bob.token).object["deviceId"]?.stringValue)
            let trailBefore = try await app.scalar(b, "SELECT count(*)::int8 FROM audit_log")

            // Tenant B's ids in the path of tenant A's admin API: not found there.
            let api = "/auth/admin/api"
            let byPath: [(HTTPRequest.Method, String, JSONValue?, String)] = [
                (.get, "\(api)/users/\(bob.id)", nil, "USER_NOT_FOUND"),
                (.patch, "\(api)/users/\(bob.id)", ["isActive": false], "USER_NOT_FOUND"),
                (.delete, "\(api)/users/\(bob.id)", nil, "USER_NOT_FOUND"),
                (.get, "\(api)/users/\(bob.id)/sessions", nil, "USER_NOT_FOUND"),
                (.delete, "\(api)/users/\(bob.id)/sessions", nil, "USER_NOT_FOUND"),
                (.delete, "\(api)/users/\(bob.id)/sessions/\(bobSession)", nil, "NOT_FOUND"),
                (.get, "\(api)/roles/\(roleBID)", nil, "ROLE_NOT_FOUND"),
                (.patch, "\(api)/roles/\(roleBID)", ["description": "x"], "ROLE_NOT_FOUND"),
                (.delete, "\(api)/roles/\(roleBID)", nil, "ROLE_NOT_FOUND"),
            ]
            for (method, path, json, code) in byPath {
                let r = try await client.call(method, path, json: json, bearer: adminA.token)
                #expect(r.code == code, "\(method) \(path): \(r.raw)")
            }
            // The user routes with B's ids: not found.
            #expect(try await client.call(.delete, "/auth/mfa/devices/\(bobDevice)", bearer: userA.token).status == .notFound)
            #expect(try await client.call(.delete, "/auth/sessions/\(bobSession)", bearer: userA.token).code == "NOT_FOUND")
            #expect(try await client.call(.delete, "/auth/api-keys/\(bobKeyID)", bearer: userA.token).status == .notFound)
            // B named by header or body: refused before anything runs.
            for (method, path) in [(HTTPRequest.Method.get, "\(api)/users"), (.delete, "\(api)/sessions"), (.get, "/auth/me"), (.get, "/auth/sessions")] {
                let token = path.hasPrefix(api) ? adminA.token : userA.token
                let r = try await client.call(method, path, bearer: token, headers: ["x-tenant-id": b.slug])
                #expect(r.status == .forbidden && r.code == "INVALID_TENANT", "\(path): \(r.raw)")
            }
            let created = try await client.call(
                .post, "\(api)/users", json: ["email": "x@example.com", "tenantId": .string(b.slug)], bearer: adminA.token)
            #expect(created.status == .forbidden && created.code == "INVALID_TENANT", "\(created.raw)")
            #expect(try await app.scalar(b, "SELECT count(*)::int8 FROM users WHERE email = 'x@example.com'") == 0)
            // A's own listing shows none of B's users.
            let listed = try await client.call(.get, "\(api)/users?limit=100", bearer: adminA.token)
            #expect(!(listed.object["data"]?.arrayValue ?? []).contains { $0["id"]?.stringValue == bob.id.uuidString.lowercased() })
            // A forged tenant claim (B's id in A's token) fails the signature.
            let parts = adminA.token.split(separator: ".").map(String.init)
            var payload = try jwtParts(adminA.token).payload
            payload["tenantId"] = .string(b.id.uuidString.lowercased())
            let forged = [parts[0], Base64URL.encode(Array(JSONValue.object(payload).jsonText.utf8)), parts[2]].joined(separator: ".")
            #expect(try await client.call(.get, "\(api)/users", bearer: forged).code == "INVALID_TOKEN")

            // Nothing of B changed.
            #expect(try await client.call(.get, "/auth/me", bearer: bob.token).status == .ok)
            #expect(try await app.scalar(b, "SELECT count(*)::int8 FROM mfa_devices WHERE id = $1::uuid", bobDevice) == 1)
            #expect(try await client.call(.get, "\(api)/roles/\(roleBID)", bearer: adminB.token).status == .ok)
            #expect(try await app.scalar(b, "SELECT count(*)::int8 FROM users WHERE is_active") == 2)
            #expect(try await app.scalar(b, "SELECT count(*)::int8 FROM audit_log") == trailBefore)
        }
    }
}

extension AdminAPITests {
    /// Dead letters of the tenant's own events are listed and retried; another tenant's are not
    /// even seen.
    @Test func deadLettersOfTheTenantsEventsAreListedAndRetried() async throws {
        try await TestApp.with { app, client in
            let a = try await app.tenant("a")
            let b = try await app.tenant("b")
            let admin = try await Self.account(app, client, "admin@example.com", tenant: a, roles: ["tenant_admin"])
            _ = try await Self.account(app, client, "bob@example.com", tenant: b)
            let group = "g-\(UUID().uuidString.prefix(8).lowercased())"
            try await app.pool.query("INSERT INTO auth.consumer_groups (name, last_snapshot) VALUES ($1, pg_current_snapshot())", group)
            // Every event of both tenants dead-lettered in that group.
            try await app.pool.query(
                """
                INSERT INTO auth.event_deliveries (group_name, event_id, status, attempts, last_error)
                SELECT $1, id, 'dead', 8, 'handler failed' FROM auth.events WHERE tenant_id IN ($2, $3)
                """, group, a.id, b.id)
            let list = try await client.call(.get, "/auth/admin/api/events/deliveries?status=dead&group=\(group)", bearer: admin.token)
            let rows = list.object["data"]?.arrayValue ?? []
            let ownEvents = try await app.events(a).count
            #expect(rows.count == ownEvents && ownEvents > 0, "\(list.raw)")
            let eventID = try #require(rows.first?["eventId"]?.stringValue)
            let retried = try await client.call(.post, "/auth/admin/api/events/deliveries/\(group)/\(eventID)/retry", bearer: admin.token)
            #expect(retried.status == .ok, "\(retried.raw)")
            #expect(try await client.call(.post, "/auth/admin/api/events/deliveries/\(group)/\(eventID)/retry", bearer: admin.token).code == "DELIVERY_NOT_FOUND")
            // A dead letter of tenant B's event: not found for A's admin, and still dead.
            let bEvent = try #require(
                try await app.pool.query("SELECT id FROM auth.events WHERE tenant_id = $1 LIMIT 1", b.id).first?.decode("id", as: UUID.self))
            let cross = try await client.call(.post, "/auth/admin/api/events/deliveries/\(group)/\(bEvent)/retry", bearer: admin.token)
            #expect(cross.code == "DELIVERY_NOT_FOUND")
            let still = try await app.pool.query(
                "SELECT status FROM auth.event_deliveries WHERE group_name = $1 AND event_id = $2", group, bEvent
            ).first?.decode("status", as: String.self)
            #expect(still == "dead")
            try await app.pool.query("DELETE FROM auth.consumer_groups WHERE name = $1", group)
        }
    }
}

extension AdminAPITests {
    /// Issue 18 item 6: a tenant's own settings, validated, applied to that tenant only.
    @Test func tenantSettingsApplyToTheirTenantOnly() async throws {
        try await TestApp.with { app, client in
            let a = try await app.tenant("a")
            let admin = try await Self.account(app, client, "admin@example.com", tenant: a, roles: ["tenant_admin"])
            func patch(_ json: JSONValue) async throws -> Reply {
                try await client.call(.patch, "/auth/admin/api/settings", json: json, bearer: admin.token)
            }
            let initial = try await client.call(.get, "/auth/admin/api/settings", bearer: admin.token)
            #expect(initial.object["effective"]?["registrationEnabled"] == .bool(true) && initial.object["settings"] == .object([:]))
            #expect(try await patch(["sessionIdleTimeout": 100]).code == "INVALID_INPUT")
            #expect(try await patch(["registrationEnabled": "no"]).code == "INVALID_INPUT")
            #expect(try await patch(["colour": "blue"]).code == "INVALID_INPUT")
            #expect(try await patch(["passwordMinLength": 7]).code == "INVALID_INPUT")

            let closed = try await patch(["registrationEnabled": false, "passwordMinLength": 20])
            #expect(closed.object["settings"] == ["registrationEnabled": false, "passwordMinLength": 20], "\(closed.raw)")
            let refused = try await client.signup("new@example.com", tenant: a.slug)
            #expect(refused.status == .forbidden && refused.code == "REGISTRATION_DISABLED")
            #expect(try await client.signup("new@example.com").status == .ok)  // the default tenant is untouched
            _ = try await patch(["registrationEnabled": .null, "autoLoginAfterSignup": false])
            #expect(try await client.signup("new@example.com", "fifteen chars!!", tenant: a.slug).code == "PASSWORD_TOO_SHORT")
            let quiet = try await client.signup("new@example.com", "twenty characters or more", tenant: a.slug)
            #expect(quiet.status == .ok && quiet.accessToken == "", "\(quiet.raw)")  // nest-auth's empty tokens: no session

            _ = try await patch(["lockoutThreshold": 1])
            #expect(try await client.login("new@example.com", "a wrong password!!!!!", tenant: a.slug).code == "INVALID_CREDENTIALS")
            #expect(try await client.login("new@example.com", "twenty characters or more", tenant: a.slug).code == "INVALID_CREDENTIALS")
            // Only holders of auth.settings.write change settings.
            try await app.env.db.inTenant(a) { tx in try await RoleStore().upsert("viewer", permissions: ["auth.admin"], on: tx) }
            let viewer = try await Self.account(app, client, "viewer@example.com", tenant: a, roles: ["viewer"])
            #expect(try await client.call(.patch, "/auth/admin/api/settings", json: ["lockoutThreshold": 0], bearer: viewer.token).code
                == "MISSING_REQUIRED_PERMISSIONS")
        }
    }
}

/// Review findings: no escalation through the admin API, each route needs only its own
/// permission, and the remaining 500s.
extension AdminAPITests {
    /// A role made of `permissions`, given to a new account; its token.
    static func holder(_ app: TestApp, _ client: some TestClientProtocol, _ email: String, _ permissions: [String]) async throws -> (token: String, id: UUID) {
        let role = "r-" + String(UUID().uuidString.prefix(8)).lowercased()
        _ = try await app.env.db.inTenant(try await app.defaultTenant()) { tx in try await RoleStore().upsert(role, permissions: permissions, on: tx) }
        return try await Self.account(app, client, email, roles: [role])
    }

    @Test func eachRouteNeedsOnlyItsOwnPermission() async throws {
        try await TestApp.with { app, client in
            let auditor = try await Self.holder(app, client, "auditor@example.com", ["auth.admin", "auth.audit.read"])
            #expect(try await client.call(.get, "/auth/admin/api/audit", bearer: auditor.token).status == .ok)
            #expect(try await client.call(.get, "/auth/admin/api/settings", bearer: auditor.token).status == .ok)
            #expect(try await client.call(.get, "/auth/admin/api/users", bearer: auditor.token).code == "MISSING_REQUIRED_PERMISSIONS")
            let retrier = try await Self.holder(app, client, "retrier@example.com", ["auth.admin", "auth.events.read"])
            #expect(try await client.call(.get, "/auth/admin/api/events/deliveries", bearer: retrier.token).status == .ok)
            #expect(try await client.call(.get, "/auth/admin/api/audit", bearer: retrier.token).code == "MISSING_REQUIRED_PERMISSIONS")
            let revoker = try await Self.holder(app, client, "revoker@example.com", ["auth.admin", "auth.sessions.revoke"])
            let bob = try await Self.account(app, client, "bob@example.com")
            #expect(try await client.call(.delete, "/auth/admin/api/users/\(bob.id)/sessions", bearer: revoker.token).status == .ok)
            #expect(try await client.call(.get, "/auth/admin/api/roles", bearer: revoker.token).code == "MISSING_REQUIRED_PERMISSIONS")
        }
    }

    @Test func aTenantAdminCannotGrantOrTouchMoreThanTheyHold() async throws {
        try await TestApp.with { app, client in
            let owner = try await Self.account(app, client, "owner@example.com", roles: ["tenant_admin"])
            let userAdmin = try await Self.holder(app, client, "ua@example.com", ["auth.admin", "auth.users.read", "auth.users.write"])
            let roleAdmin = try await Self.holder(app, client, "ra@example.com", ["auth.admin", "auth.roles.read", "auth.roles.write"])
            func call(_ token: String, _ method: HTTPRequest.Method, _ path: String, _ json: JSONValue? = nil) async throws -> Reply {
                try await client.call(method, "/auth/admin/api" + path, json: json, bearer: token)
            }
            // Roles granting more than the caller holds, to themselves or anyone.
            let selfPromotion = try await call(userAdmin.token, .patch, "/users/\(userAdmin.id)", ["roles": ["tenant_admin"]])
            #expect(selfPromotion.code == "MISSING_REQUIRED_PERMISSIONS", "\(selfPromotion.raw)")
            #expect(try await call(userAdmin.token, .post, "/users", ["email": "x@example.com", "roles": ["tenant_admin"]]).code
                == "MISSING_REQUIRED_PERMISSIONS")
            // A more powerful account is out of reach: no password, e-mail or MFA change, no delete.
            #expect(try await call(userAdmin.token, .patch, "/users/\(owner.id)", ["password": "a takeover password"]).code
                == "MISSING_REQUIRED_PERMISSIONS")
            #expect(try await call(userAdmin.token, .delete, "/users/\(owner.id)").code == "MISSING_REQUIRED_PERMISSIONS")
            #expect(try await client.call(.get, "/auth/me", bearer: owner.token).status == .ok)
            // Roles: no permission the caller lacks, in a new role or an existing one.
            let roles = try await call(roleAdmin.token, .get, "/roles").body.arrayValue ?? []
            let member = try #require(roles.first { $0["name"] == "member" }?["id"]?.stringValue)
            let admin = try #require(roles.first { $0["name"] == "tenant_admin" }?["id"]?.stringValue)
            #expect(try await call(roleAdmin.token, .patch, "/roles/\(member)", ["permissions": ["auth.settings.write"]]).code
                == "MISSING_REQUIRED_PERMISSIONS")
            #expect(try await call(roleAdmin.token, .post, "/roles", ["name": "sneaky", "permissions": ["auth.users.write"]]).code
                == "MISSING_REQUIRED_PERMISSIONS")
            // The application's own permissions are theirs to grant.
            #expect(try await call(roleAdmin.token, .post, "/permissions", ["name": "orders.approve"]).status == .created)
            #expect(try await call(roleAdmin.token, .post, "/roles", ["name": "approver", "permissions": ["orders.approve"]]).status == .created)
            #expect(try await call(roleAdmin.token, .patch, "/roles/\(admin)", ["description": "mine now"]).code == "MISSING_REQUIRED_PERMISSIONS")
            // Within what they hold, they may.
            #expect(try await call(roleAdmin.token, .patch, "/roles/\(member)", ["permissions": ["auth.roles.read"]]).status == .ok)
            // tenant_admin is every built-in permission: even its holders do not edit its list.
            #expect(try await call(owner.token, .patch, "/roles/\(admin)", ["permissions": []]).code == "SYSTEM_ROLE_PROTECTED")
        }
    }

    /// Removing the only address of an account is a 400, not a constraint's 500.
    @Test func anAccountKeepsAtLeastOneAddress() async throws {
        try await TestApp.with { app, client in
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            let ann = try await Self.account(app, client, "ann@example.com")
            let r = try await client.call(.patch, "/auth/admin/api/users/\(ann.id)", json: ["email": .null], bearer: admin.token)
            #expect(r.status == .badRequest && r.code == "EMAIL_OR_PHONE_REQUIRED", "\(r.raw)")
            #expect(try await client.login("ann@example.com").status == .ok)
        }
    }

    /// A tenant admin cannot lock themselves out through the admin API: deleting or
    /// deactivating their own account, or dropping `auth.admin` from their own roles, is a 409
    /// that changes nothing. Other changes to themselves, and the same changes by another
    /// admin, go through.
    @Test func aTenantAdminCannotLockThemselvesOut() async throws {
        try await TestApp.with { app, client in
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            let other = try await Self.account(app, client, "other@example.com", roles: ["tenant_admin"])
            let me = "/auth/admin/api/users/\(admin.id)"
            for (method, body) in [
                (HTTPRequest.Method.delete, nil), (.patch, ["isActive": false]), (.patch, ["roles": ["member"]]),
                (.patch, ["roles": [], "metadata": ["team": "red"]]),
            ] as [(HTTPRequest.Method, JSONValue?)] {
                let r = try await client.call(method, me, json: body, bearer: admin.token)
                #expect(r.status == .conflict && r.code == "ADMIN_SELF_LOCKOUT", "\(method) \(String(describing: body)): \(r.raw)")
            }
            let unchanged = try await client.call(.get, me, bearer: admin.token)
            let user = unchanged.object["user"]
            #expect(user?["isActive"] == .bool(true) && user?["roles"] == .array(["tenant_admin"]), "\(unchanged.raw)")
            #expect(user?["metadata"] == .object([:]), "\(unchanged.raw)")
            // Keeping auth.admin, or changing something else, is allowed.
            let kept = try await client.call(.patch, me, json: ["roles": ["tenant_admin", "member"], "metadata": ["team": "blue"]], bearer: admin.token)
            #expect(kept.status == .ok && kept.object["metadata"]?["team"] == "blue", "\(kept.raw)")
            // Another admin may do what the admin could not do to themselves.
            let demoted = try await client.call(.patch, me, json: ["roles": ["member"]], bearer: other.token)
            #expect(demoted.status == .ok && demoted.object["roles"] == .array(["member"]), "\(demoted.raw)")
            #expect(try await client.call(.delete, me, bearer: other.token).status == .ok)
            #expect(try await client.login("admin@example.com").status == .unauthorized)
        }
    }

    /// The same through a role: an admin whose `auth.admin` comes from a custom role may not
    /// take it out of that role, deactivate the role or delete it; another admin may.
    @Test func aTenantAdminCannotLockThemselvesOutThroughTheirRole() async throws {
        try await TestApp.with { app, client in
            let owner = try await Self.account(app, client, "owner@example.com", roles: ["tenant_admin"])
            let keeper = try await Self.holder(app, client, "keeper@example.com", ["auth.admin", "auth.roles.read", "auth.roles.write"])
            let roles = try await client.call(.get, "/auth/admin/api/roles", bearer: keeper.token).body.arrayValue ?? []
            let role = try #require(roles.first { $0["name"]?.stringValue?.hasPrefix("r-") == true }?["id"]?.stringValue)
            let path = "/auth/admin/api/roles/\(role)"
            let attempts: [(HTTPRequest.Method, JSONValue?)] = [
                (.patch, ["permissions": ["auth.roles.read", "auth.roles.write"]]), (.patch, ["isActive": false]), (.delete, nil),
            ]
            for (method, body) in attempts {
                let r = try await client.call(method, path, json: body, bearer: keeper.token)
                #expect(r.status == .conflict && r.code == "ADMIN_SELF_LOCKOUT", "\(method) \(String(describing: body)): \(r.raw)")
            }
            let kept = try await client.call(.get, path, bearer: keeper.token)
            #expect(kept.object["isActive"] == .bool(true) && kept.object["permissions"]?.arrayValue?.contains("auth.admin") == true, "\(kept.raw)")
            // A change that leaves auth.admin in place goes through; so does another admin's.
            #expect(try await client.call(.patch, path, json: ["description": "mine"], bearer: keeper.token).status == .ok)
            #expect(try await client.call(.delete, path, bearer: owner.token).status == .ok)
        }
    }

    /// A stale console cookie beside a tenant admin's cookie-mode login does not shadow it.
    @Test func aStaleConsoleCookieFallsThroughToTheToken() async throws {
        try await TestApp.with(configure: { $0.secureCookies = false }) { app, client in
            let admin = try await Self.account(app, client, "admin@example.com", roles: ["tenant_admin"])
            let r = try await client.call(
                .get, "/auth/admin/api/users", headers: ["cookie": "nest_auth_admin=stale; accessToken=\(admin.token)", "x-access-token-type": "cookie"])
            #expect(r.status == .ok, "\(r.raw)")
        }
    }
}
