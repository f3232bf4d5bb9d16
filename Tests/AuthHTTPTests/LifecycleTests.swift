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
            let updated = try await app.env.registry.withTenantTransaction(tenant) { tx in
                try await lifecycle.update(userID: userID, UserChanges(metadata: ["plan": .string("pro")]), tenant: tenant, tx: tx)
            }
            #expect(updated.metadata == ["plan": .string("pro"), "touched": .bool(true)])
            #expect(log.all == ["beforeUpdate", "afterUpdate"])
            await #expect(throws: Rejected.self) {
                try await app.env.registry.withTenantTransaction(tenant) { tx in
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
            try await app.env.registry.withTenantTransaction(tenant) { tx in
                try await lifecycle.delete(userID: dropID, tenant: tenant, tx: tx)
            }
            #expect(log.all == ["beforeDelete", "afterDelete"])
            await #expect(throws: Rejected.self) {
                try await app.env.registry.withTenantTransaction(tenant) { tx in
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
            try await app.env.registry.withTenantTransaction(try await app.defaultTenant()) { tx in
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
