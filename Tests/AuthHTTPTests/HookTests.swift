import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import PGKit
import Synchronization
import TestSupport
import Testing

/// Records the order hooks ran in.
final class HookLog: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ s: String) { entries.withLock { $0.append(s) } }
    var all: [String] { entries.withLock { $0 } }
}

struct Rejected: Error {}

/// The hook timeline of the seed page, each hook's phase, and what throwing does.
@Suite struct HookTests {
    @Test func signupHooksRunInOrderInsideOneTransaction() async throws {
        let log = HookLog()
        var hooks = AuthHooks()
        hooks.beforeSignup = { input, _ in
            log.add("beforeSignup")
            var changed = input
            changed.profile["seen"] = .bool(true)
            return changed
        }
        hooks.user.beforeCreate = { new, _ in
            log.add("beforeCreate")
            var changed = new
            changed.metadata["plan"] = .string("free")
            return changed
        }
        hooks.user.afterCreate = { user, _, tx in
            log.add("afterCreate")
            let txid = try await tx.query("SELECT pg_current_xact_id()::text AS x").first?.decode("x", as: String.self)
            log.add("tx:\(txid ?? "")")
            #expect(user.metadata["plan"] == .string("free"))
        }
        hooks.onSignup = { user, input, ctx in
            log.add("onSignup")
            #expect(input.profile["seen"] == .bool(true))
            let txid = try await ctx.tx.query("SELECT pg_current_xact_id()::text AS x").first?.decode("x", as: String.self)
            log.add("tx:\(txid ?? "")")
            try await RoleStore().assign(["member"], to: user.id, on: ctx.tx)
        }
        hooks.user.getSessionUserData = { _, data, _ in
            log.add("getSessionUserData")
            var d = data
            d["displayName"] = .string("Ann")
            return d
        }
        hooks.session.customizeSessionData = { data, _ in
            log.add("customizeSessionData")
            return data
        }
        hooks.session.customizeTokenPayload = { claims, _ in
            log.add("customizeTokenPayload")
            var c = claims
            c["org"] = .string("acme")
            c["sub"] = .string("attacker")  // reserved: ignored
            return c
        }
        hooks.session.onCreated = { _, _ in log.add("onCreated") }
        try await TestApp.with(hooks: hooks) { _, client in
            let r = try await client.signup("ann@example.com")
            #expect(r.status == .ok)
            #expect(r.object["user"]?["displayName"] == .string("Ann"))
            // Roles assigned in onSignup land in the first token.
            let payload = try jwtParts(try #require(r.accessToken)).payload
            #expect(payload["roles"] == .array([.string("member")]))
            #expect(payload["org"] == .string("acme"))
            #expect(payload["sub"] != .string("attacker"))
            #expect(try await eventually { log.all.contains("onCreated") })
            let order = log.all.filter { !$0.hasPrefix("tx:") }
            #expect(order == [
                "beforeSignup", "beforeCreate", "afterCreate", "onSignup", "getSessionUserData", "customizeSessionData",
                "customizeTokenPayload", "onCreated",
            ])
            let txids = Set(log.all.filter { $0.hasPrefix("tx:") })
            #expect(txids.count == 1)  // afterCreate and onSignup saw the same transaction
        }
    }

    @Test func afterCreateSharesTheTransactionAndALaterThrowUndoesEverything() async throws {
        var hooks = AuthHooks()
        hooks.user.afterCreate = { user, _, tx in
            try await tx.query("CREATE TABLE IF NOT EXISTS app_profiles (auth_user_id uuid PRIMARY KEY)")
            try await tx.query("INSERT INTO app_profiles VALUES ($1)", user.id)
        }
        hooks.onSignup = { _, input, _ in
            if input.email == "fail@example.com" { throw AuthError.rejection(code: "SIGNUP_REFUSED", status: 422, message: "no") }
        }
        try await TestApp.with(hooks: hooks) { app, client in
            #expect(try await client.signup("ok@example.com").status == .ok)
            let refused = try await client.signup("fail@example.com")
            #expect(refused.status == .unprocessableContent && refused.code == "SIGNUP_REFUSED")
            let tenant = try await app.defaultTenant()
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users") == 1)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM app_profiles") == 1)
            #expect(try await app.events(tenant, type: "auth.user.created").count == 1)
        }
    }

    @Test func onLoginCanBlockWithItsOwnErrorAndNothingIsLeft() async throws {
        var hooks = AuthHooks()
        let log = HookLog()
        hooks.onLogin = { user, ctx in
            log.add("onLogin:\(ctx.roles)")
            if user.metadata["underReview"]?.boolValue == true {
                throw AuthError.rejection(code: "ACCOUNT_UNDER_REVIEW", status: 403, message: "under review")
            }
        }
        hooks.authorization.resolveRoles = { _, _ in
            log.add("resolveRoles")
            return ["reviewer"]
        }
        hooks.session.onCreated = { _, _ in log.add("onCreated") }
        try await TestApp.with(hooks: hooks) { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            try await app.env.db.inTenant(tenant) { tx in
                try await tx.query(#"UPDATE users SET metadata = '{"underReview": true}'"#)
            }
            let blocked = try await client.login("ann@example.com")
            #expect(blocked.status == .forbidden && blocked.code == "ACCOUNT_UNDER_REVIEW")
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM sessions") == 1)  // signup's only
            #expect(try await app.events(tenant, type: "auth.logged_in").isEmpty)
            try await app.env.db.inTenant(tenant) { tx in
                try await tx.query(#"UPDATE users SET metadata = '{}'"#)
            }
            let ok = try await client.login("ann@example.com")
            #expect(ok.status == .ok)
            #expect(try jwtParts(try #require(ok.accessToken)).payload["roles"] == .array([.string("reviewer")]))
            let entries = log.all
            let loginIndex = try #require(entries.lastIndex(of: "onLogin:[]"))
            let rolesIndex = try #require(entries.lastIndex(of: "resolveRoles"))
            #expect(loginIndex < rolesIndex)  // ctx.roles are the stored ones; resolveRoles runs after
        }
    }

    @Test func afterAuthRejectionAtLoginLeavesNoSessionAndNoEvent() async throws {
        var hooks = AuthHooks()
        hooks.guards.afterAuth = { request, _ in
            request.headers["x-device"] == "blocked" ? .deny("device not allowed") : .allow
        }
        try await TestApp.with(hooks: hooks) { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            let r = try await client.login("ann@example.com", headers: ["x-device": "blocked"])
            #expect(r.status == .forbidden && r.code == "ACCESS_DENIED")
            #expect(r.object["message"] == .string("device not allowed"))
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM sessions") == 1)
            #expect(try await app.events(tenant, type: "auth.logged_in").isEmpty)
        }
    }

    @Test func beforeAuthRunsOnEveryGuardedRequest() async throws {
        var hooks = AuthHooks()
        hooks.guards.beforeAuth = { request in
            request.headers["x-ip-blocked"] == "1" ? .deny("ip_blocked") : .allow
        }
        try await TestApp.with(hooks: hooks) { _, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let r = try await client.call(.get, "/auth/me", bearer: token, headers: ["x-ip-blocked": "1"])
            #expect(r.status == .unauthorized && r.code == "ACCESS_DENIED" && r.object["message"] == .string("ip_blocked"))
            let login = try await client.login("ann@example.com", headers: ["x-ip-blocked": "1"])
            #expect(login.code == "ACCESS_DENIED")
            #expect(try await client.call(.get, "/auth/me", bearer: token).status == .ok)
            // API.md's order: the hook's refusal comes before the session's — also for a token
            // whose session was revoked (whether the revocation is known from memory or not).
            #expect(try await client.call(.post, "/auth/logout", bearer: token).status == .ok)
            let revoked = try await client.call(.get, "/auth/me", bearer: token, headers: ["x-ip-blocked": "1"])
            #expect(revoked.code == "ACCESS_DENIED", "\(revoked.raw)")
            #expect(try await client.call(.get, "/auth/me", bearer: token).code == "SESSION_NOT_FOUND")
        }
    }

    @Test func refreshReResolvesAndOnRefreshedRunsAfterCommit() async throws {
        let log = HookLog()
        var hooks = AuthHooks()
        hooks.session.onRefreshed = { old, new in log.add("refreshed:\(old.generation)->\(new.generation)") }
        hooks.session.onRevoked = { _, reason in log.add("revoked:\(reason)") }
        try await TestApp.with(hooks: hooks) { app, client in
            let signup = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            try await app.env.db.inTenant(tenant) { tx in
                try await RoleStore().upsert("editor", permissions: ["posts.write"], on: tx)
                let uid = try #require(try await tx.query("SELECT id FROM users").first).decode("id", as: UUID.self)
                try await RoleStore().assign(["editor"], to: uid, on: tx)
            }
            let r = try await client.refresh(try #require(signup.refreshToken))
            let payload = try jwtParts(try #require(r.accessToken)).payload
            #expect(payload["roles"] == .array([.string("editor")]))
            #expect(payload["permissions"] == .array([.string("posts.write")]))
            #expect(try await eventually { log.all.contains("refreshed:0->1") })
            _ = try await client.call(.post, "/auth/logout", bearer: try #require(r.accessToken))
            #expect(try await eventually { log.all.contains("revoked:logout") })
        }
    }

    @Test func sensitiveFieldsErrorHandlerAndTransformResponse() async throws {
        var hooks = AuthHooks()
        hooks.user.sensitiveFields = ["metadata.internal", "phone"]
        hooks.user.beforeCreate = { new, _ in
            var n = new
            n.metadata = ["internal": .string("secret note"), "public": .string("ok")]
            return n
        }
        hooks.errorHandler = { error, context in
            context == "login" && error.code == "INVALID_CREDENTIALS"
                ? AuthError.rejection(code: "LOGIN_FAILED", status: 401, message: "Nope") : error
        }
        hooks.transformResponse = { response, context in
            var r = response
            r.message = "[\(context)] " + r.message
            return r
        }
        try await TestApp.with(hooks: hooks) { _, client in
            let r = try await client.signup("ann@example.com")
            #expect(r.object["message"] == .string("[signup] Signup successful"))
            #expect(r.object["user"]?["metadata"] == .object(["public": .string("ok")]))
            #expect(r.object["user"]?["phone"] == nil)
            let me = try await client.call(.get, "/auth/me", bearer: try #require(r.accessToken))
            #expect(!me.raw.contains("secret note"))
            let bad = try await client.login("ann@example.com", "wrong password here")
            #expect(bad.code == "LOGIN_FAILED")
        }
    }

    @Test func resolveConfigAndPasswordHooks() async throws {
        var hooks = AuthHooks()
        hooks.resolveConfig = { request in
            AuthHooks.ConfigOverride(accessTokenType: request.headers["x-app"] == "web" ? .cookie : .header)
        }
        hooks.password.hash = { "plain$" + String($0.reversed()) }
        hooks.password.verify = { password, hash in hash == "plain$" + String(password.reversed()) }
        try await TestApp.with(hooks: hooks) { app, client in
            let web = try await client.call(
                .post, "/auth/signup", json: .object(["email": .string("ann@example.com"), "password": .string("correct horse battery")]),
                headers: ["x-app": "web"])
            let names = Set(web.setCookies.map { String($0.prefix { $0 != "=" }) })
            #expect(web.accessToken == nil && names == ["accessToken", "refreshToken", "authd_csrf", "authd_session_only"], "\(web.setCookies)")
            let mobile = try await client.login("ann@example.com")
            #expect(mobile.accessToken != nil)
            let stored = try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
                try #require(try await tx.query("SELECT password_hash FROM credentials").first).decode("password_hash", as: String.self)
            }
            #expect(stored == "plain$yrettab esroh tcerroc")
        }
    }
}

/// Refresh through the hook-aware path (a shaping hook is set, so the one-hop path is skipped).
@Suite struct RefreshWithShapingHooksTests {
    @Test func rotateReplayAndReuseWithAShapingHook() async throws {
        var hooks = AuthHooks()
        hooks.user.getSessionUserData = { _, data, ctx in
            var d = data
            // Proves the hook ran inside the refresh transaction.
            d["txid"] = .string(try await ctx.tx.query("SELECT pg_current_xact_id()::text AS x").first?.decode("x", as: String.self) ?? "")
            return d
        }
        try await TestApp.with(hooks: hooks, configure: { $0.refreshGraceWindow = .seconds(30) }) { app, client in
            let first = try #require(try await client.signup("ann@example.com").refreshToken)
            let rotated = try await client.refresh(first)
            #expect(rotated.status == .ok && rotated.object["user"]?["txid"] != nil)
            let current = try #require(rotated.refreshToken)
            #expect(try await client.refresh(first).refreshToken == current)  // grace replay
            let next = try await client.refresh(current)
            #expect(next.status == .ok)
            // `first` is now two generations old: reuse.
            #expect(try await client.refresh(first).code == "REFRESH_TOKEN_INVALID")
            #expect(try await app.events(try await app.defaultTenant(), type: "auth.refresh_token_reuse_detected").count == 1)
        }
    }
}
