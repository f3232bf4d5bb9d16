import AuthCore
import AuthCrypto
import HTTPTypes
import TestSupport
import Testing

/// Reference §12 behaviours 1–10 and the password requirements, over HTTP.
@Suite struct SignupLoginTests {
    @Test func signupReturnsTokensAndRecordsEventsOnce() async throws {
        try await TestApp.with { app, client in
            let r = try await client.signup("ann@example.com")
            #expect(r.status == .ok)
            #expect(r.accessToken?.isEmpty == false && r.refreshToken?.isEmpty == false)
            #expect(r.object["isRequiresMfa"] == .bool(false))
            #expect(r.object["message"] == .string("Signup successful"))
            #expect(r.object["user"]?["id"]?.stringValue != nil)
            let types = try await app.events(try await app.defaultTenant()).map(\.type)
            #expect(types.filter { $0 == "auth.user.created" }.count == 1)
            #expect(types.filter { $0 == "auth.registered" }.count == 1)
            #expect(types.firstIndex(of: "auth.user.created")! < types.firstIndex(of: "auth.registered")!)
        }
    }

    @Test func signupWithoutEmailOrPhoneIsRejectedAndCreatesNothing() async throws {
        try await TestApp.with { app, client in
            let r = try await client.call(.post, "/auth/signup", json: .object(["password": .string("correct horse battery")]))
            #expect(r.status == .badRequest)
            #expect(r.code == "EMAIL_OR_PHONE_REQUIRED")
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 0)
        }
    }

    @Test func registrationDisabledIsForbidden() async throws {
        try await TestApp.with(configure: { $0.registrationEnabled = false }) { _, client in
            let r = try await client.signup("ann@example.com")
            #expect(r.status == .forbidden)
            #expect(r.code == "REGISTRATION_DISABLED")
        }
    }

    @Test func duplicateEmailInAnyCaseIsAConflictWithoutEvent() async throws {
        try await TestApp.with { app, client in
            #expect(try await client.signup("ann@example.com").status == .ok)
            let r = try await client.signup("  ANN@Example.COM ")
            #expect(r.status == .conflict)
            #expect(r.code == "EMAIL_ALREADY_EXISTS")
            let registered = try await app.events(try await app.defaultTenant(), type: "auth.registered")
            #expect(registered.count == 1)
        }
    }

    @Test func sameEmailInTwoTenantsIsTwoUsers() async throws {
        try await TestApp.with { app, client in
            let a = try await app.tenant("a")
            let b = try await app.tenant("b")
            let ra = try await client.signup("same@example.com", tenant: a.slug)
            let rb = try await client.signup("same@example.com", tenant: b.id.uuidString)
            #expect(ra.status == .ok && rb.status == .ok)
            let idA = ra.object["user"]?["id"]?.stringValue
            let idB = rb.object["user"]?["id"]?.stringValue
            #expect(idA != nil && idA != idB)
            let login = try await client.login("same@example.com", tenant: b.slug)
            #expect(login.object["user"]?["id"]?.stringValue == idB)
            #expect(login.object["user"]?["tenantId"]?.stringValue == b.id.uuidString.lowercased())
        }
    }

    @Test func wrongPasswordLeavesItsTraceAndNoSession() async throws {
        try await TestApp.with { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            let wrong = try await client.login("ann@example.com", "not the password")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.code == "INVALID_CREDENTIALS")
            let failed = try await app.events(tenant, type: "auth.login_failed")
            #expect(failed.count == 1)
            #expect(failed.first?.data["reasonCode"] == .string("INVALID_CREDENTIALS"))
            #expect(try await app.events(tenant, type: "auth.logged_in").isEmpty)
            #expect(try await app.scalar(tenant, "SELECT failed_attempts::int8 FROM credentials") == 1)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM sessions") == 1)  // the signup's only
            // Unknown account: byte-identical answer.
            let unknown = try await client.login("nobody@example.com", "not the password")
            #expect(unknown.status == wrong.status)
            #expect(unknown.raw == wrong.raw)
            // Unknown tenant: the same again.
            let noTenant = try await client.login("ann@example.com", "not the password", tenant: "no-such-tenant")
            #expect(noTenant.raw == wrong.raw)
            // A successful login resets the counter.
            #expect(try await client.login("ann@example.com").status == .ok)
            #expect(try await app.scalar(tenant, "SELECT failed_attempts::int8 FROM credentials") == 0)
        }
    }

    @Test func inactiveUserCannotLoginAndLosesAccess() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let token = try #require(signup.accessToken)
            let tenant = try await app.defaultTenant()
            _ = try await app.scalar(tenant, "WITH u AS (UPDATE users SET is_active = false RETURNING 1) SELECT count(*)::int8 FROM u")
            let login = try await client.login("ann@example.com")
            #expect(login.status == .unauthorized)
            #expect(login.code == "ACCOUNT_INACTIVE")
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM sessions") == 1)
            let me = try await client.call(.get, "/auth/me", bearer: token)
            #expect(me.status == .unauthorized)
        }
    }

    @Test func unknownProviderAndMissingFields() async throws {
        try await TestApp.with { _, client in
            let provider = try await client.call(
                .post, "/auth/login",
                json: .object(["providerName": .string("nope"), "credentials": .object(["email": .string("a@b.co"), "password": .string("x")])]))
            #expect(provider.status == .unauthorized)
            #expect(provider.code == "INVALID_PROVIDER")
            let missing = try await client.call(.post, "/auth/login", json: .object(["credentials": .object(["email": .string("a@b.co")])]))
            #expect(missing.status == .badRequest)
            #expect(missing.code == "MISSING_REQUIRED_FIELDS")
        }
    }

    @Test func passwordPolicy() async throws {
        try await TestApp.with { _, client in
            let short = try await client.signup("a@example.com", "short")
            #expect(short.code == "PASSWORD_TOO_SHORT")
            let common = try await client.signup("b@example.com", "password123")
            #expect(common.code == "PASSWORD_TOO_COMMON")
            let identifier = try await client.signup("carol.smith@example.com", "carol.smith")
            #expect(identifier.code == "PASSWORD_CONTAINS_IDENTIFIER")
            // No composition rules: a long lower-case passphrase is fine.
            #expect(try await client.signup("d@example.com", "purple monkey dishwasher").status == .ok)
            // 64 characters with spaces and Unicode, verified exactly as typed.
            let exact = "  Ünïcödé pässwörd with spaces — 🔐 and more words to reach 64 "
            #expect(try await client.signup("e@example.com", exact).status == .ok)
            #expect(try await client.login("e@example.com", exact).status == .ok)
            #expect(try await client.login("e@example.com", String(exact.dropFirst(2))).status == .unauthorized)
            #expect(try await client.login("e@example.com", exact.uppercased()).status == .unauthorized)
        }
    }

    @Test func malformedJSONAndWrongTypesAreInvalidInput() async throws {
        try await TestApp.with { app, client in
            let malformed = try await client.call(.post, "/auth/signup", raw: "{\"email\": ")
            #expect(malformed.status == .badRequest)
            #expect(malformed.code == "INVALID_INPUT")
            let wrongType = try await client.call(.post, "/auth/signup", json: .object(["email": .int(5), "password": .string("correct horse battery")]))
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.code == "INVALID_INPUT")
            #expect(wrongType.object["message"]?.stringValue?.contains("email") == true)
            let notObject = try await client.call(.post, "/auth/login", raw: "[1,2]")
            #expect(notObject.code == "INVALID_INPUT")
            let wrongCredentials = try await client.call(.post, "/auth/login", json: .object(["credentials": .string("x")]))
            #expect(wrongCredentials.code == "INVALID_INPUT")
            let huge = try await client.call(.post, "/auth/signup", raw: "{\"email\":\"" + String(repeating: "a", count: 70_000) + "\"}")
            #expect(huge.status == .contentTooLarge)
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 0)
        }
    }

    @Test func weakHashIsUpgradedOnLogin() async throws {
        try await TestApp.with { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            // Replace the hash with one made with weaker parameters than the configured ones.
            let weak = PasswordHasher(parameters: .init(memoryKiB: 512, iterations: 1, parallelism: 1), threads: 1)
            let weakHash = try await weak.hash("correct horse battery")
            await weak.shutdown()
            try await app.env.db.inTenant(tenant) { tx in
                try await tx.query("UPDATE credentials SET password_hash = $1", weakHash)
            }
            #expect(try await client.login("ann@example.com").status == .ok)
            let after = try await app.env.db.inTenant(tenant) { tx in
                try #require(try await tx.query("SELECT password_hash FROM credentials").first).decode("password_hash", as: String.self)
            }
            #expect(after.contains("m=1024,t=1,p=1"))
            #expect(try await client.login("ann@example.com").status == .ok)
        }
    }
}
