import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import TestSupport
import Testing

/// Reference behaviour 39 (API keys, without nest-auth's §10.11 bugs) and §6.11 (invites).
@Suite struct APIKeyAndInviteTests {
    static func apiKey(_ key: String) -> [String: String] { ["authorization": "ApiKey \(key)"] }

    @Test func aKeyAuthenticatesItsOwnerUntilRevokedAndItsSecretIsNeverStored() async throws {
        let db = try await TestDatabases.shared.migrated()
        let key = try await TestApp.with(database: db) { app, client in
            let signup = try await client.signup("ann@example.com")
            let token = try #require(signup.accessToken)
            let made = try await client.call(.post, "/auth/api-keys", json: .object(["name": .string("ci")]), bearer: token)
            #expect(made.status == .ok)
            let key = try #require(made.object["key"]?.stringValue)
            let me = try await client.call(.get, "/auth/me", headers: Self.apiKey(key))
            #expect(me.status == .ok && me.object["id"] == signup.object["user"]?["id"])
            #expect(try await client.call(.get, "/auth/me", headers: ["authorization": "apikey \(key)"]).status == .ok)
            let listed = try await client.call(.get, "/auth/api-keys", bearer: token)
            #expect(!listed.raw.contains(String(key.split(separator: ".")[1])))
            #expect(listed.raw.contains("lastUsedAt\":\"20"))
            // Wrong secret, malformed, someone else's revoke, a key making a key.
            #expect(try await client.call(.get, "/auth/me", headers: Self.apiKey(key + "x")).code == "INVALID_API_KEY")
            #expect(try await client.call(.get, "/auth/me", headers: Self.apiKey("garbage")).code == "INVALID_API_KEY_FORMAT")
            let bob = try #require(try await client.signup("bob@example.com").accessToken)
            let id = try #require(made.object["id"]?.stringValue)
            #expect(try await client.call(.delete, "/auth/api-keys/\(id)", bearer: bob).status == .notFound)
            #expect(try await client.call(.post, "/auth/api-keys", json: .object(["name": .string("x")]), headers: Self.apiKey(key)).status == .forbidden)
            // A key (plus the password) cannot mint a session by changing the password.
            let viaKey = try await client.call(
                .post, "/auth/change-password",
                json: .object(["currentPassword": .string("correct horse battery"), "newPassword": .string("some new passphrase")]),
                headers: Self.apiKey(key))
            #expect(viaKey.status == .forbidden && viaKey.accessToken == nil)
            // Revoked by its owner: refused from then on.
            #expect(try await client.call(.delete, "/auth/api-keys/\(id)", bearer: token).status == .ok)
            #expect(try await client.call(.get, "/auth/me", headers: Self.apiKey(key)).code == "API_KEY_DEACTIVATED")
            let tenant = try await app.defaultTenant()
            #expect(try await app.events(tenant, type: "auth.access_key.created").count == 1)
            #expect(try await app.events(tenant, type: "auth.access_key.deactivated").count == 1)
            return key
        }
        #expect(!(try db.dump()).contains(String(key.split(separator: ".")[1])))
    }

    @Test func expiredKeysAndInactiveOwnersAreRefused() async throws {
        try await TestApp.with { app, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let made = try await client.call(.post, "/auth/api-keys", json: .object(["name": .string("ci"), "expiresInDays": .int(1)]), bearer: token)
            let key = try #require(made.object["key"]?.stringValue)
            let tenant = try await app.defaultTenant()
            _ = try await app.scalar(tenant, "WITH u AS (UPDATE api_keys SET expires_at = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            #expect(try await client.call(.get, "/auth/me", headers: Self.apiKey(key)).code == "API_KEY_EXPIRED")
            let fresh = try #require(try await client.call(.post, "/auth/api-keys", json: .object(["name": .string("b")]), bearer: token).object["key"]?.stringValue)
            _ = try await app.scalar(tenant, "WITH u AS (UPDATE users SET is_active = false RETURNING 1) SELECT count(*)::int8 FROM u")
            #expect(try await client.call(.get, "/auth/me", headers: Self.apiKey(fresh)).code == "ACCOUNT_INACTIVE")
            #expect(try await client.call(.post, "/auth/api-keys", json: .object(["name": .string("x"), "expiresInDays": .string("1")]), bearer: token).status
                != .ok)
        }
    }

    /// §6.11: only a holder of `users.invite`; the token only in the (sealed) event; accepted
    /// through reset-password, after which the invitee logs in.
    @Test func anInviteeSetsAPasswordWithTheTokenFromTheEvent() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let token = try #require(signup.accessToken)
            let denied = try await client.call(.post, "/auth/invite", json: .object(["email": .string("new@example.com")]), bearer: token)
            #expect(denied.status == .forbidden && denied.code == "MISSING_REQUIRED_PERMISSIONS")
            let tenant = try await app.defaultTenant()
            let annID = try #require(signup.object["user"]?["id"]?.stringValue)
            let ann = try #require(UUID(uuidString: annID))
            try await app.env.db.inTenant(tenant) { tx in
                try await RoleStore().upsert("inviter", permissions: ["users.invite"], on: tx)
                try await RoleStore().assign(["inviter"], to: ann, on: tx)
            }
            let invited = try await client.call(
                .post, "/auth/invite", json: .object(["email": .string("New@Example.com"), "metadata": .object(["team": .string("a")])]), bearer: token)
            #expect(invited.status == .ok && invited.object["isNewUser"] == .bool(true))
            #expect(invited.object["user"]?["email"] == .string("new@example.com"))
            let (setPassword, data) = try await app.code(tenant, type: "auth.user_invited")
            #expect(!invited.raw.contains(setPassword) && data["isNewUser"] == .bool(true))
            #expect(try await client.login("new@example.com").code == "INVALID_CREDENTIALS")
            let accepted = try await client.call(
                .post, "/auth/reset-password", json: .object(["token": .string(setPassword), "newPassword": .string("a fine new passphrase")]))
            #expect(accepted.status == .ok)
            #expect(try await client.login("new@example.com", "a fine new passphrase").status == .ok)
            // Inviting an existing account links it (no second user).
            let again = try await client.call(.post, "/auth/invite", json: .object(["email": .string("new@example.com")]), bearer: token)
            #expect(again.object["isNewUser"] == .bool(false))
            #expect(again.object["user"]?["metadata"] == nil && again.object["user"]?["lastLoginAt"] == nil)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users WHERE email = 'new@example.com'") == 1)
        }
    }

    /// A password reset revokes the account's API keys (whoever made one with the old password).
    @Test func aPasswordResetRevokesTheKeys() async throws {
        try await TestApp.with { app, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let key = try #require(try await client.call(.post, "/auth/api-keys", json: .object(["name": .string("k")]), bearer: token).object["key"]?.stringValue)
            let tenant = try await app.defaultTenant()
            _ = try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")]))
            let code = try await app.code(tenant, type: "auth.password_reset_requested").code
            let reset = try #require(try await client.call(
                .post, "/auth/verify-forgot-password-otp", json: .object(["email": .string("ann@example.com"), "code": .string(code)])).object["resetToken"]?.stringValue)
            #expect(try await client.call(.post, "/auth/reset-password", json: .object(["token": .string(reset), "newPassword": .string("a fresh passphrase")])).status == .ok)
            #expect(try await client.call(.get, "/auth/me", headers: Self.apiKey(key)).code == "API_KEY_DEACTIVATED")
        }
    }
}
