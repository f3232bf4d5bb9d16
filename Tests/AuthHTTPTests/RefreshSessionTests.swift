import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import HummingbirdTesting
import PGKit
import TestSupport
import Testing

/// Refresh rotation, grace window and reuse; sessions, logout, logout-all; cookie mode.
@Suite struct RefreshSessionTests {
    @Test func refreshRotatesForTheSameSessionAndRecordsTheEvent() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let first = try #require(signup.refreshToken)
            let r = try await client.refresh(first)
            #expect(r.status == .ok)
            #expect(r.object["message"] == .string("Token refreshed successfully"))
            let second = try #require(r.refreshToken)
            #expect(second != first)
            let sid1 = try jwtParts(try #require(signup.accessToken)).payload["sessionId"]
            let sid2 = try jwtParts(try #require(r.accessToken)).payload["sessionId"]
            #expect(sid1 == sid2)
            #expect(try await app.events(try await app.defaultTenant(), type: "auth.refresh_token").count == 1)
            #expect(try await client.refresh(second).status == .ok)
        }
    }

    /// Refresh rotations are HOT updates (tenant migration `20261210120000_hot_updates`): no
    /// column a rotation writes is indexed and the page has room, so each new row version stays
    /// on the session's page and no index gets an entry. pageinspect shows both: heap-only
    /// tuples (or, once pruned, redirects) on the heap page, which a non-HOT update never
    /// leaves, and one entry in the primary key, where non-HOT updates would leave four.
    @Test func refreshRotationsAreHOTUpdates() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            var token = try #require(signup.refreshToken)
            for _ in 0..<3 { token = try #require(try await client.refresh(token).refreshToken) }
            let schema = try await app.defaultTenant().schemaName
            let (heapOnly, keyEntries) = try await app.env.db.pool.withConnection { lease in
                try await lease.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
                let heap = try await lease.query(
                    "SELECT count(*) AS n FROM heap_page_items(get_raw_page($1, 0)) WHERE lp_flags = 2 OR (t_infomask2 & 32768) <> 0",
                    schema + ".sessions")
                let key = try await lease.query("SELECT count(*) AS n FROM bt_page_items($1, 1)", schema + ".sessions_pkey")
                return (try heap.first?.decode("n", as: Int.self) ?? 0, try key.first?.decode("n", as: Int.self) ?? 0)
            }
            #expect(heapOnly > 0, "no heap-only tuple or redirect: the rotations were not HOT updates")
            #expect(keyEntries == 1, "\(keyEntries) primary-key entries for one session rotated three times")
        }
    }

    /// The one-statement rotation writes the same event envelope as the transaction path, and a
    /// role granted between two refreshes reaches both the token and the stored session data.
    @Test func refreshEventShapeAndRolesGrantedBetweenRefreshes() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            let claims = try jwtParts(try #require(signup.accessToken)).payload
            let userID = try #require(claims["sub"]?.stringValue)
            let sessionID = try #require(claims["sessionId"]?.stringValue)
            let r1 = try await client.refresh(try #require(signup.refreshToken))
            #expect(r1.status == .ok)
            let event = try #require(try await app.events(tenant, type: "auth.refresh_token").first)
            #expect(event.subject == ["type": .string("session"), "id": .string(sessionID), "userId": .string(userID)])
            #expect(event.data == ["generation": .int(1)])
            #expect(try await app.scalar(
                tenant, "SELECT count(*)::int8 FROM auth.events WHERE type = 'auth.refresh_token' AND actor = jsonb_build_object('type', 'user', 'id', $1::text)",
                userID) == 1)

            _ = try await app.scalar(
                tenant,
                """
                WITH role AS (INSERT INTO roles (name, permissions) VALUES ('editor', '{posts.write}') RETURNING id)
                INSERT INTO user_roles (user_id, role_id) SELECT $1::uuid, id FROM role RETURNING 1::int8
                """, userID)
            let r2 = try await client.refresh(try #require(r1.refreshToken))
            #expect(r2.status == .ok)
            let access2 = try #require(r2.accessToken)
            #expect(try jwtParts(access2).payload["roles"] == .array([.string("editor")]))
            #expect(try await app.scalar(
                tenant, "SELECT count(*)::int8 FROM sessions WHERE id = $1::uuid AND data->'roles' = '[\"editor\"]'::jsonb AND refresh_generation = 2",
                sessionID) == 1)
        }
    }

    /// Tokens of a tenant deleted a moment ago (still in this process's tenant cache) get a 4xx,
    /// never a 500 from its missing tables.
    @Test func tokensOfADeletedTenantAreRefusedCleanly() async throws {
        try await TestApp.with { app, client in
            let tenant = try await app.tenant("gone")
            let signup = try await client.signup("ann@example.com", tenant: tenant.slug)
            let access = try #require(signup.accessToken)
            let refresh = try #require(signup.refreshToken)
            #expect(try await client.call(.get, "/auth/me", bearer: access).status == .ok)
            try await app.env.registry.delete(slug: tenant.slug)
            let me = try await client.call(.get, "/auth/me", bearer: access)
            #expect(me.status == .unauthorized, "\(me.raw)")
            let r = try await client.refresh(refresh)
            #expect((400..<500).contains(Int(r.status.code)), "\(r.raw)")
            let login = try await client.login("ann@example.com", tenant: tenant.slug)
            #expect((400..<500).contains(Int(login.status.code)), "\(login.raw)")
        }
    }

    @Test func previousTokenWithinGraceGetsTheSameAnswer() async throws {
        try await TestApp.with(configure: { $0.refreshGraceWindow = .seconds(30) }) { app, client in
            let first = try #require(try await client.signup("ann@example.com").refreshToken)
            let rotated = try await client.refresh(first)
            let current = try #require(rotated.refreshToken)
            let replay = try await client.refresh(first)
            #expect(replay.status == .ok)
            #expect(replay.refreshToken == current)
            // No second live branch: the current one still works, once.
            #expect(try await client.refresh(current).status == .ok)
            #expect(try await app.events(try await app.defaultTenant(), type: "auth.refresh_token_reuse_detected").isEmpty)
        }
    }

    /// The grace window and the session's lifetimes are judged by the database's clock: this
    /// server's clock running an hour ahead (or behind) neither revokes an honest replay nor
    /// changes what counts as expired. (Before, the age of a rotation was this clock minus the
    /// database's `rotated_at`.)
    @Test(arguments: [3600.0, -3600.0])
    func graceWindowIsJudgedByTheDatabaseClock(_ skew: Double) async throws {
        try await TestApp.with(now: { Date().addingTimeInterval(skew) }, configure: { $0.refreshGraceWindow = .seconds(10) }) { app, client in
            let first = try #require(try await client.signup("ann@example.com").refreshToken)
            let current = try #require(try await client.refresh(first).refreshToken)
            let replay = try await client.refresh(first)
            #expect(replay.status == .ok && replay.refreshToken == current, "\(replay.raw)")
            #expect(try await app.events(try await app.defaultTenant(), type: "auth.refresh_token_reuse_detected").isEmpty)
        }
    }

    @Test func reuseAfterTheWindowRevokesTheSessionAndLeavesATrace() async throws {
        try await TestApp.with(configure: { $0.refreshGraceWindow = .zero }) { app, client in
            let signup = try await client.signup("ann@example.com")
            let access = try #require(signup.accessToken)
            let first = try #require(signup.refreshToken)
            let current = try #require(try await client.refresh(first).refreshToken)
            try await Task.sleep(for: .milliseconds(1100))
            let reuse = try await client.refresh(first)
            #expect(reuse.status == .unauthorized && reuse.code == "REFRESH_TOKEN_INVALID")
            let tenant = try await app.defaultTenant()
            // Committed before the 401: the revocation and the event.
            #expect(try await app.events(tenant, type: "auth.refresh_token_reuse_detected").count == 1)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM sessions WHERE revoked_reason = 'refresh_token_reuse'") == 1)
            // The legitimate holder's next refresh fails, and its access token is dead.
            #expect(try await client.refresh(current).status == .unauthorized)
            #expect(try await client.call(.get, "/auth/me", bearer: access).code == "SESSION_NOT_FOUND")
        }
    }

    @Test func tokenWithABadTagChangesNothing() async throws {
        try await TestApp.with(configure: { $0.refreshGraceWindow = .zero }) { app, client in
            let first = try #require(try await client.signup("ann@example.com").refreshToken)
            // Same session id, another generation, forged tag: refused without touching the session.
            var parts = first.split(separator: ".").map(String.init)
            parts[4] = "7"
            let forged = try await client.refresh(parts.joined(separator: "."))
            #expect(forged.code == "REFRESH_TOKEN_INVALID")
            #expect(try await client.refresh(first).status == .ok)
            #expect(try await app.events(try await app.defaultTenant(), type: "auth.refresh_token_reuse_detected").isEmpty)
        }
    }

    @Test func twentyConcurrentRefreshesAllSucceedWithOneLiveToken() async throws {
        try await TestApp.with { app, client in
            let first = try #require(try await client.signup("ann@example.com").refreshToken)
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<20 { group.addTask { try await client.refresh(first) } }
                return try await group.reduce(into: [Reply]()) { $0.append($1) }
            }
            #expect(replies.allSatisfy { $0.status == .ok })
            let tokens = Set(replies.compactMap(\.refreshToken))
            #expect(tokens.count == 1)
            let tenant = try await app.defaultTenant()
            #expect(try await app.scalar(tenant, "SELECT refresh_generation::int8 FROM sessions") == 1)
            let only = try #require(tokens.first)
            #expect(try await client.refresh(only).status == .ok)
        }
    }

    @Test func expiredSessionCannotRefresh() async throws {
        try await TestApp.with { app, client in
            let first = try #require(try await client.signup("ann@example.com").refreshToken)
            try await app.env.db.inTenant(try await app.defaultTenant()) { tx in
                try await tx.query("UPDATE sessions SET idle_expires_at = now() - interval '1 second'")
            }
            let r = try await client.refresh(first)
            #expect(r.status == .unauthorized && r.code == "REFRESH_TOKEN_EXPIRED")
        }
    }

    @Test func maxSessionsEvictsTheLeastRecentlyActive() async throws {
        try await TestApp.with(configure: { $0.maxSessionsPerUser = 2 }) { app, client in
            let oldest = try #require(try await client.signup("ann@example.com").accessToken)
            let second = try #require(try await client.login("ann@example.com").accessToken)
            let third = try #require(try await client.login("ann@example.com").accessToken)
            #expect(try await client.call(.get, "/auth/me", bearer: oldest).code == "SESSION_NOT_FOUND")
            #expect(try await client.call(.get, "/auth/me", bearer: second).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: third).status == .ok)
            let sessions = try await client.call(.get, "/auth/sessions", bearer: third)
            guard case .array(let list) = sessions.body else {
                Issue.record("sessions list expected")
                return
            }
            #expect(list.count == 2)
            _ = app
        }
    }

    @Test func logoutRevokesTheSessionAndAlwaysAnswers200() async throws {
        try await TestApp.with { app, client in
            let access = try #require(try await client.signup("ann@example.com").accessToken)
            let out = try await client.call(.post, "/auth/logout", bearer: access)
            #expect(out.status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: access).code == "SESSION_NOT_FOUND")
            let tenant = try await app.defaultTenant()
            #expect(try await app.events(tenant, type: "auth.logged_out").count == 1)
            let anonymous = try await client.call(.post, "/auth/logout")
            #expect(anonymous.status == .ok)
            #expect(anonymous.setCookies.contains { $0.hasPrefix("accessToken=;") })
            #expect(anonymous.setCookies.contains { $0.hasPrefix("refreshToken=;") })
            #expect(try await app.events(tenant, type: "auth.logged_out").count == 1)
        }
    }

    @Test func logoutAllEndsEveryDevice() async throws {
        try await TestApp.with { app, client in
            let a = try #require(try await client.signup("ann@example.com").accessToken)
            let b = try #require(try await client.login("ann@example.com").accessToken)
            let bRefresh = try #require(try await client.login("ann@example.com").refreshToken)
            let r = try await client.call(.post, "/auth/logout-all", bearer: a)
            #expect(r.status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: a).status == .unauthorized)
            #expect(try await client.call(.get, "/auth/me", bearer: b).status == .unauthorized)
            #expect(try await client.refresh(bRefresh).status == .unauthorized)
            let events = try await app.events(try await app.defaultTenant(), type: "auth.logged_out_all")
            guard case .array(let ids)? = events.first?.data["sessionIds"] else {
                Issue.record("logged_out_all must list the sessions")
                return
            }
            #expect(ids.count == 3)
        }
    }

    @Test func revokeOneOwnSessionButNotAnothersUsers() async throws {
        try await TestApp.with { _, client in
            let ann = try await client.signup("ann@example.com")
            let bob = try await client.signup("bob@example.com")
            let bobToken = try #require(bob.accessToken)
            let bobSession = try #require(try jwtParts(bobToken).payload["sessionId"]?.stringValue)
            let annToken = try #require(ann.accessToken)
            let foreign = try await client.call(.delete, "/auth/sessions/\(bobSession)", bearer: annToken)
            #expect(foreign.status == .notFound)
            #expect(try await client.call(.get, "/auth/me", bearer: bobToken).status == .ok)
            let annSession = try #require(try jwtParts(annToken).payload["sessionId"]?.stringValue)
            #expect(try await client.call(.delete, "/auth/sessions/\(annSession)", bearer: annToken).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: annToken).status == .unauthorized)
        }
    }

    @Test func cookieModeMovesTokensIntoCookies() async throws {
        try await TestApp.with { _, client in
            let signup = try await client.call(
                .post, "/auth/signup", json: .object(["email": .string("ann@example.com"), "password": .string("correct horse battery")]),
                headers: ["x-access-token-type": "cookie"])
            #expect(signup.status == .ok)
            #expect(signup.accessToken == nil && signup.refreshToken == nil)
            let cookies = signup.setCookies
            let access = try #require(cookies.first { $0.hasPrefix("accessToken=") })
            let refresh = try #require(cookies.first { $0.hasPrefix("refreshToken=") })
            #expect(access.contains("Path=/;") && access.contains("HttpOnly") && access.contains("SameSite=Lax"))
            #expect(refresh.contains("Path=/auth;") && refresh.contains("HttpOnly"))
            let accessValue = String(access.prefix { $0 != ";" }.dropFirst("accessToken=".count))
            let refreshValue = String(refresh.prefix { $0 != ";" }.dropFirst("refreshToken=".count))
            let csrf = try #require(signup.object["csrfToken"]?.stringValue)
            // Refresh with the cookie alone (plus the CSRF token a cookie-carried credential needs).
            let r = try await client.call(
                .post, "/auth/refresh-token",
                headers: ["cookie": "refreshToken=\(refreshValue)", "x-access-token-type": "cookie", "x-csrf-token": csrf])
            #expect(r.status == .ok && r.refreshToken == nil)
            // Cookie mode ignores the Authorization header; header mode ignores the cookie.
            let cookieModeWithHeader = try await client.call(
                .get, "/auth/me", bearer: accessValue, headers: ["x-access-token-type": "cookie"])
            #expect(cookieModeWithHeader.code == "NO_AUTH_PROVIDED")
            let headerModeWithCookie = try await client.call(.get, "/auth/me", headers: ["cookie": "accessToken=\(accessValue)"])
            #expect(headerModeWithCookie.code == "NO_AUTH_PROVIDED")
            let cookieMode = try await client.call(
                .get, "/auth/me", headers: ["cookie": "accessToken=\(accessValue)", "x-access-token-type": "cookie"])
            #expect(cookieMode.status == .ok)
        }
    }

    @Test func verifySessionAndUserRoutes() async throws {
        try await TestApp.with { _, client in
            let access = try #require(try await client.signup("ann@example.com").accessToken)
            let v = try await client.call(.get, "/auth/verify-session", bearer: access)
            #expect(v.object["valid"] == .bool(true))
            let u = try await client.call(.get, "/auth/user", bearer: access)
            #expect(u.object["email"] == .string("ann@example.com"))
            #expect(u.raw.contains("password") == false)
        }
    }

    @Test func databaseDumpHoldsNoPlaintextSecrets() async throws {
        try await TestApp.with { app, client in
            let password = "correct horse battery"
            let signup = try await client.signup("ann@example.com", password)
            let refresh = try #require(signup.refreshToken)
            let rotated = try #require(try await client.refresh(refresh).refreshToken)
            // Every row of every table, as text.
            let tables = try await app.pool.query(
                "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = 'auth' OR schemaname LIKE 't\\_%'")
            var dump = ""
            for t in tables {
                let schema: String = try t.decode("schemaname")
                let table: String = try t.decode("tablename")
                let rows = try await app.pool.query("SELECT t::text AS row FROM \"\(schema)\".\"\(table)\" t")
                for r in rows { dump += try r.decode("row", as: String.self) + "\n" }
            }
            #expect(!dump.isEmpty)
            #expect(!dump.contains(password))
            for token in [refresh, rotated] {
                #expect(!dump.contains(token))
                #expect(!dump.contains(String(token.split(separator: ".")[5])))  // the random part
            }
            // No private key material: the raw seed would be 32 bytes; check the JWKS x is there but no d.
            let keys = try await app.pool.query("SELECT encode(private_key_sealed, 'hex') AS sealed, encode(public_key, 'hex') AS pub FROM auth.signing_keys")
            for k in keys {
                let sealed: String = try k.decode("sealed")
                #expect(sealed.count > 64 + 28 * 2)  // ciphertext + nonce + tag, not a bare key
            }
        }
    }
}
