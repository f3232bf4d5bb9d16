import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import PGKit
import TestSupport
import Testing

/// User update and delete with their in-transaction hooks; other session rules.
@Suite struct LifecycleTests {
    @Test func updateHooksShareTheTransactionAndAThrowUndoesTheChange() async throws {
        let log = HookLog()
        var hooks = AuthHooks()
        hooks.user.beforeUpdate = { _, changes, _ in
            log.add("beforeUpdate")
            var c = changes
            c.metadata = (c.metadata ?? [:]).merging(["touched": .bool(true)]) { a, _ in a }
            return c
        }
        hooks.user.afterUpdate = { user, _, tx in
            log.add("afterUpdate")
            try await tx.query("CREATE TABLE IF NOT EXISTS audit_copy (user_id uuid, note text)")
            try await tx.query("INSERT INTO audit_copy VALUES ($1, 'updated')", user.id)
            if user.metadata["fail"] == .bool(true) { throw Rejected() }
        }
        try await TestApp.with(hooks: hooks) { app, client in
            let signup = try await client.signup("ann@example.com")
            let userID = try #require(UUID(uuidString: signup.object["user"]?["id"]?.stringValue ?? ""))
            let tenant = try await app.defaultTenant()
            let lifecycle = UserLifecycle(env: app.env)
            let updated = try await app.env.db.inTenant(tenant) { tx in
                try await lifecycle.update(userID: userID, UserChanges(metadata: ["plan": .string("pro")]), tenant: tenant, tx: tx)
            }
            #expect(updated.metadata == ["plan": .string("pro"), "touched": .bool(true)])
            #expect(log.all == ["beforeUpdate", "afterUpdate"])
            await #expect(throws: Rejected.self) {
                try await app.env.db.inTenant(tenant) { tx in
                    try await lifecycle.update(userID: userID, UserChanges(metadata: ["fail": .bool(true)]), tenant: tenant, tx: tx)
                }
            }
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM audit_copy") == 1)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users WHERE metadata ? 'fail'") == 0)
            #expect(try await app.events(tenant, type: "auth.user.updated").count == 1)
        }
    }

    @Test func deleteHooksRunAroundTheDeleteAndAThrowKeepsTheUser() async throws {
        let log = HookLog()
        var hooks = AuthHooks()
        hooks.user.beforeDelete = { user, tx in
            log.add("beforeDelete")
            let still = try await tx.query("SELECT 1 FROM users WHERE id = $1", user.id)
            #expect(still.count == 1)
        }
        hooks.user.afterDelete = { user, tx in
            log.add("afterDelete")
            let gone = try await tx.query("SELECT 1 FROM users WHERE id = $1", user.id)
            #expect(gone.isEmpty)
            if user.email == "keep@example.com" { throw Rejected() }
        }
        try await TestApp.with(hooks: hooks) { app, client in
            let keep = try await client.signup("keep@example.com")
            let drop = try await client.signup("drop@example.com")
            let tenant = try await app.defaultTenant()
            let lifecycle = UserLifecycle(env: app.env)
            let dropID = try #require(UUID(uuidString: drop.object["user"]?["id"]?.stringValue ?? ""))
            let keepID = try #require(UUID(uuidString: keep.object["user"]?["id"]?.stringValue ?? ""))
            try await app.env.db.inTenant(tenant) { tx in
                try await lifecycle.delete(userID: dropID, tenant: tenant, tx: tx)
            }
            #expect(log.all == ["beforeDelete", "afterDelete"])
            await #expect(throws: Rejected.self) {
                try await app.env.db.inTenant(tenant) { tx in
                    try await lifecycle.delete(userID: keepID, tenant: tenant, tx: tx)
                }
            }
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users") == 1)
            #expect(try await client.call(.get, "/auth/me", bearer: try #require(keep.accessToken)).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: try #require(drop.accessToken)).status == .unauthorized)
            #expect(try await app.events(tenant, type: "auth.user.deleted").count == 1)
        }
    }

    @Test func afterAuthOnAGuardedRequestIs403() async throws {
        var hooks = AuthHooks()
        hooks.guards.afterAuth = { request, user in
            request.method == "GET" && request.headers["x-fingerprint"] == "mismatch" ? .deny("device changed for \(user.email ?? "")") : .allow
        }
        try await TestApp.with(hooks: hooks) { _, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let r = try await client.call(.get, "/auth/me", bearer: token, headers: ["x-fingerprint": "mismatch"])
            #expect(r.status == .forbidden && r.code == "ACCESS_DENIED")
        }
    }

    @Test func absoluteLifetimeEndsRefresh() async throws {
        try await TestApp.with { app, client in
            let first = try #require(try await client.signup("ann@example.com").refreshToken)
            try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
                try await tx.query("UPDATE sessions SET expires_at = now() - interval '1 second'")
            }
            #expect(try await client.refresh(first).code == "REFRESH_TOKEN_EXPIRED")
        }
    }

    @Test func signupWithoutAutoLoginCreatesNoSession() async throws {
        try await TestApp.with(configure: { $0.autoLoginAfterSignup = false }) { app, client in
            let r = try await client.signup("ann@example.com")
            #expect(r.status == .ok)
            #expect(r.accessToken == "" && r.refreshToken == "")
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM sessions") == 0)
            #expect(try await client.login("ann@example.com").status == .ok)
        }
    }
}

/// Logout when the guard cannot run, and identities following address changes.
@Suite struct LogoutFallbackTests {
    @Test func logoutWithOnlyARefreshTokenEndsTheSession() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let refresh = try #require(signup.refreshToken)
            let out = try await client.call(.post, "/auth/logout", json: .object(["refreshToken": .string(refresh)]))
            #expect(out.status == .ok)
            #expect(try await client.refresh(refresh).status == .unauthorized)
            #expect(try await app.events(try await app.defaultTenant(), type: "auth.logged_out").count == 1)
        }
    }

    @Test func logoutWithAnExpiredAccessTokenEndsTheSession() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let access = try #require(signup.accessToken)
            let payload = try jwtParts(access).payload
            let past = Date().addingTimeInterval(-60)
            let expired = try await app.env.tokens.sign(AccessTokenClaims(
                issuer: "authd", audience: "authd", subject: try #require(payload["sub"]?.stringValue), issuedAt: past.addingTimeInterval(-900),
                expiresAt: past, tokenID: "x", sessionID: try #require(payload["sessionId"]?.stringValue),
                tenantID: try #require(payload["tenantId"]?.stringValue), roles: [], permissions: [], isMfaEnabled: false, isMfaVerified: false))
            #expect(try await client.call(.post, "/auth/logout", bearer: expired).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: access).code == "SESSION_NOT_FOUND")
        }
    }

    @Test func identitiesFollowEmailChanges() async throws {
        try await TestApp.with { app, client in
            let ann = try await client.signup("ann@example.com")
            _ = try await client.signup("bob@example.com")
            let tenant = try await app.defaultTenant()
            let annID = try #require(UUID(uuidString: ann.object["user"]?["id"]?.stringValue ?? ""))
            let lifecycle = UserLifecycle(env: app.env)
            _ = try await app.env.db.inTenant(tenant) { tx in
                try await lifecycle.update(userID: annID, UserChanges(email: .some("ann2@example.com")), tenant: tenant, tx: tx)
            }
            // The old address is free again; the new one logs in.
            #expect(try await client.signup("ann@example.com").status == .ok)
            #expect(try await client.login("ann2@example.com").status == .ok)
            await #expect(throws: AuthError.emailAlreadyExists) {
                try await app.env.db.inTenant(tenant) { tx in
                    try await lifecycle.update(userID: annID, UserChanges(email: .some("bob@example.com")), tenant: tenant, tx: tx)
                }
            }
        }
    }
}
