import AuthCore
import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// Issue 19 item 5 over HTTP with a software authenticator (`SoftAuthenticator`); the browser's
/// own ceremony is `PasskeyBrowserTests` (authdTests).
@Suite struct PasskeyTests {
    static func configured(_ s: inout AuthSettings) {
        s.passkeys.rpID = "localhost"
        s.passkeys.origins = ["http://localhost:8080"]
    }

    /// Marks every account of the tenant's as having verified its e-mail (passkeys need it).
    static func verifyAll(_ app: TestApp, _ tenant: Tenant) async throws {
        _ = try await app.scalar(tenant, "WITH v AS (UPDATE users SET email_verified_at = now() RETURNING 1) SELECT count(*)::int8 FROM v")
    }

    /// Registers a passkey for the signed-in `token`; returns the authenticator.
    static func register(_ client: some TestClientProtocol, _ token: String, ed25519: Bool = false) async throws -> SoftAuthenticator {
        var authenticator = try SoftAuthenticator(ed25519: ed25519)
        let options = try await client.call(.post, "/auth/passkeys/register/options", bearer: token)
        #expect(options.status == .ok, "\(options.raw)")
        let credential = try authenticator.create(options.object)
        let made = try await client.call(
            .post, "/auth/passkeys/register/verify", json: .object(["credential": .object(credential), "name": "laptop"]), bearer: token)
        #expect(made.status == .created, "\(made.raw)")
        return authenticator
    }

    static func login(_ client: some TestClientProtocol, _ authenticator: inout SoftAuthenticator, tenant: String? = nil, flags: UInt8 = 0x05,
                      counter: UInt32? = nil, origin: String? = nil) async throws -> Reply {
        var body: JSONObject = [:]
        if let tenant { body["tenantId"] = .string(tenant) }
        let options = try await client.call(.post, "/auth/passkeys/login/options", json: .object(body))
        #expect(options.status == .ok, "\(options.raw)")
        body["credential"] = .object(try authenticator.get(options.object, flags: flags, counter: counter, origin: origin))
        return try await client.call(.post, "/auth/passkeys/login/verify", json: .object(body))
    }

    @Test func offUntilARelyingPartyIsConfigured() async throws {
        try await TestApp.with { _, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            #expect(try await client.call(.post, "/auth/passkeys/register/options", bearer: token).code == "PASSKEYS_NOT_CONFIGURED")
            #expect(try await client.call(.post, "/auth/passkeys/login/options").code == "PASSKEYS_NOT_CONFIGURED")
            #expect(try await client.call(.get, "/auth/client-config").object["passkeys"]?.objectValue["enabled"] == .bool(false))
        }
    }

    @Test(arguments: [false, true])
    func registerLogInRenameDelete(ed25519: Bool) async throws {
        try await TestApp.with(configure: Self.configured) { app, client in
            let tenant = try await app.defaultTenant()
            let signup = try await client.signup("ann@example.com")
            let token = try #require(signup.accessToken)
            #expect(try await client.call(.post, "/auth/passkeys/register/options", bearer: token).code == "PASSKEY_NEEDS_VERIFIED_ADDRESS")
            try await Self.verifyAll(app, tenant)
            var authenticator = try await Self.register(client, token, ed25519: ed25519)
            let listed = try await client.call(.get, "/auth/passkeys", bearer: token)
            let passkey = try #require(listed.body.arrayValue?.first?.objectValue)
            #expect(passkey["name"] == .string("laptop") && passkey["algorithm"] == .int(ed25519 ? -8 : -7))
            #expect(!listed.raw.contains("publicKey"), "the key itself is not listed")

            // MFA on: a password login asks for a second factor, a passkey login does not.
            #expect(try await app.scalar(tenant, "WITH v AS (UPDATE users SET is_mfa_enabled = true, email_verified_at = now() RETURNING 1) SELECT count(*)::int8 FROM v") == 1)
            #expect(try await client.login("ann@example.com").object["isRequiresMfa"] == .bool(true))
            let login = try await Self.login(client, &authenticator)
            #expect(login.status == .ok, "\(login.raw)")
            #expect(login.object["isRequiresMfa"] == .bool(false))
            #expect(login.object["user"]?.objectValue["id"] == signup.object["user"]?.objectValue["id"])
            #expect(try await client.call(.get, "/auth/me", bearer: try #require(login.accessToken)).status == .ok)
            let event = try #require(try await app.events(tenant, type: "auth.logged_in").last)
            #expect(event.data["provider"] == .string("passkey"))
            #expect(try await app.scalar(tenant, "SELECT sign_count::int8 FROM passkeys") == 1)

            // A tenant admin sees the user's passkeys among their login methods (never the key).
            let admin = try await AdminAPITests.holder(app, client, "admin-\(ed25519)@example.com", ["auth.admin", "auth.users.read"])
            let userID = try #require(signup.object["user"]?.objectValue["id"]?.stringValue)
            let detail = try await client.call(.get, "/auth/admin/api/users/\(userID)", bearer: admin.token)
            #expect(detail.object["loginMethods"]?["passkeys"]?.arrayValue?.first?["name"] == .string("laptop"), "\(detail.raw)")
            #expect(detail.object["loginMethods"]?["identities"] == .array([]))

            // Rename, then delete (the password remains a way in).
            let id = try #require(passkey["id"]?.stringValue)
            #expect(try await client.call(.patch, "/auth/passkeys/\(id)", json: .object(["name": "work key"]), bearer: token).status == .ok)
            #expect(try await client.call(.get, "/auth/passkeys", bearer: token).raw.contains("work key"))
            #expect(try await client.call(.delete, "/auth/passkeys/\(id)", bearer: token).status == .ok)
            #expect(try await Self.login(client, &authenticator).code == "INVALID_CREDENTIALS", "a deleted passkey logs in no more")
            #expect(try await app.events(tenant, type: "auth.passkey.added").count == 1)
            #expect(try await app.events(tenant, type: "auth.passkey.removed").count == 1)
        }
    }

    @Test func refusals() async throws {
        try await TestApp.with(configure: Self.configured) { app, client in
            let tenant = try await app.defaultTenant()
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let bob = try #require(try await client.signup("bob@example.com").accessToken)
            try await Self.verifyAll(app, tenant)
            var authenticator = try await Self.register(client, token)
            #expect(try await Self.login(client, &authenticator).status == .ok)

            // Each of these is refused as invalid credentials.
            #expect(try await Self.login(client, &authenticator, counter: 1).code == "INVALID_CREDENTIALS", "counter did not grow")
            #expect(try await Self.login(client, &authenticator, flags: 0x01).code == "INVALID_CREDENTIALS", "no user verification")
            #expect(try await Self.login(client, &authenticator, origin: "https://evil.example").code == "INVALID_CREDENTIALS", "foreign origin")
            var impostor = authenticator
            impostor.userHandle = WebAuthnBase64.encode(try SecureRandom.bytes(16))
            #expect(try await Self.login(client, &impostor).code == "INVALID_CREDENTIALS", "user handle of someone else")
            var stranger = try SoftAuthenticator()
            #expect(try await Self.login(client, &stranger).code == "INVALID_CREDENTIALS", "unknown credential")

            // A challenge is single use, even after a failure.
            let options = try await client.call(.post, "/auth/passkeys/login/options")
            let bad = try authenticator.get(options.object, origin: "https://evil.example")
            #expect(try await client.call(.post, "/auth/passkeys/login/verify", json: .object(["credential": .object(bad)])).code == "INVALID_CREDENTIALS")
            let good = try authenticator.get(options.object)
            #expect(try await client.call(.post, "/auth/passkeys/login/verify", json: .object(["credential": .object(good)])).code == "INVALID_CREDENTIALS")
            #expect(try await app.events(tenant, type: "auth.login_failed").count == 7)

            // Registration: a challenge is the caller's and single use; a credential once per tenant.
            let annOptions = try await client.call(.post, "/auth/passkeys/register/options", bearer: token)
            var other = try SoftAuthenticator()
            let forBob = try other.create(annOptions.object)
            #expect(try await client.call(.post, "/auth/passkeys/register/verify", json: .object(["credential": .object(forBob)]), bearer: bob).code
                == "PASSKEY_VERIFICATION_FAILED")
            #expect(try await client.call(.post, "/auth/passkeys/register/verify", json: .object(["credential": .object(forBob)]), bearer: token).code
                == "PASSKEY_VERIFICATION_FAILED", "the challenge went with the first try")
            var again = authenticator
            let dup = try again.create(try await client.call(.post, "/auth/passkeys/register/options", bearer: bob).object)
            #expect(try await client.call(.post, "/auth/passkeys/register/verify", json: .object(["credential": .object(dup)]), bearer: bob).code
                == "PASSKEY_ALREADY_REGISTERED")
            var lazy = try SoftAuthenticator()
            let unverified = try lazy.create(try await client.call(.post, "/auth/passkeys/register/options", bearer: bob).object, flags: 0x41)
            #expect(try await client.call(.post, "/auth/passkeys/register/verify", json: .object(["credential": .object(unverified)]), bearer: bob).code
                == "PASSKEY_VERIFICATION_FAILED", "user verification is required")
            let garbage = try await client.call(.post, "/auth/passkeys/register/verify", json: .object(["credential": .object(["type": "public-key"])]), bearer: bob)
            #expect(garbage.status == .badRequest && garbage.code == "INVALID_INPUT")
            // Another user's passkey is neither renamed nor deleted.
            let annKey = try #require(try await client.call(.get, "/auth/passkeys", bearer: token).body.arrayValue?.first?.objectValue["id"]?.stringValue)
            #expect(try await client.call(.patch, "/auth/passkeys/\(annKey)", json: .object(["name": "mine"]), bearer: bob).code == "PASSKEY_NOT_FOUND")
            #expect(try await client.call(.delete, "/auth/passkeys/\(annKey)", bearer: bob).code == "PASSKEY_NOT_FOUND")
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM passkeys") == 1)
        }
    }

    /// Challenges are bound to their ceremony, tenant and time; malformed answers are 4xx.
    @Test func ceremonyMismatchesAndMalformedAnswers() async throws {
        try await TestApp.with(configure: Self.configured) { app, client in
            let tenant = try await app.defaultTenant()
            let other = try await app.tenant("other")
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            try await Self.verifyAll(app, tenant)
            var authenticator = try await Self.register(client, token)

            // A registration challenge does not log in.
            let registration = try await client.call(.post, "/auth/passkeys/register/options", bearer: token).object
            var asLogin = registration
            asLogin["rpId"] = registration["rp"]?.objectValue["id"]
            let crossed = try authenticator.get(asLogin)
            #expect(try await client.call(.post, "/auth/passkeys/login/verify", json: .object(["credential": .object(crossed)])).code == "INVALID_CREDENTIALS")
            // Another tenant's login challenge does not either.
            let foreign = try await client.call(.post, "/auth/passkeys/login/options", json: .object(["tenantId": .string(other.slug)])).object
            let answer = try authenticator.get(foreign)
            #expect(try await client.call(.post, "/auth/passkeys/login/verify", json: .object(["credential": .object(answer)])).code == "INVALID_CREDENTIALS")
            // An expired challenge.
            let stale = try await client.call(.post, "/auth/passkeys/login/options").object
            #expect(try await app.scalar(tenant, "WITH v AS (UPDATE webauthn_challenges SET expires_at = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM v") >= 1)
            #expect(try await client.call(.post, "/auth/passkeys/login/verify", json: .object(["credential": .object(try authenticator.get(stale))])).code
                == "INVALID_CREDENTIALS")
            // No user handle, or attested credential data in an assertion.
            var anonymous = authenticator
            anonymous.userHandle = nil
            #expect(try await Self.login(client, &anonymous).code == "INVALID_CREDENTIALS")
            #expect(try await Self.login(client, &authenticator, flags: 0x45).code == "INVALID_CREDENTIALS")
            // Still fine after all that.
            #expect(try await Self.login(client, &authenticator).status == .ok)

            // Registration answers: an unregistered format (with a NUL, once made a 500), a none
            // statement that is not empty, a rawId that is not the authenticator's, broken CBOR.
            func verify(_ credential: JSONObject) async throws -> Reply {
                try await client.call(.post, "/auth/passkeys/register/verify", json: .object(["credential": .object(credential)]), bearer: token)
            }
            func options() async throws -> JSONObject { try await client.call(.post, "/auth/passkeys/register/options", bearer: token).object }
            var fresh = try SoftAuthenticator()
            #expect(try await verify(try fresh.create(try await options(), fmt: "x\u{0}y")).code == "PASSKEY_VERIFICATION_FAILED")
            #expect(try await verify(try fresh.create(try await options(), statement: [(.text("alg"), .int(-7))])).code == "PASSKEY_VERIFICATION_FAILED")
            var renamed = try fresh.create(try await options())
            renamed["rawId"] = .string(WebAuthnBase64.encode(try SecureRandom.bytes(20)))
            #expect(try await verify(renamed).code == "PASSKEY_VERIFICATION_FAILED")
            var broken = try fresh.create(try await options())
            var response = broken["response"]?.objectValue ?? [:]
            response["attestationObject"] = .string(WebAuthnBase64.encode([0xa3, 0x63, 0x66, 0x6d]))
            broken["response"] = .object(response)
            let malformed = try await verify(broken)
            #expect(malformed.status == .badRequest && malformed.code == "PASSKEY_VERIFICATION_FAILED")
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM passkeys") == 1)
        }
    }

    @Test func aTenantHasItsOwnRelyingPartyAndPasskeys() async throws {
        try await TestApp.with(configure: Self.configured) { app, client in
            let acme = try await app.tenant("acme")
            _ = try await app.env.registry.updateSettings(id: acme.id, ["passkeyRpId": "login.acme.test", "passkeyOrigins": ["https://login.acme.test"]])
            let token = try #require(try await client.signup("ann@example.com", tenant: acme.slug).accessToken)
            try await Self.verifyAll(app, acme)
            let options = try await client.call(.post, "/auth/passkeys/register/options", bearer: token)
            #expect(options.object["rp"]?.objectValue["id"] == .string("login.acme.test"))
            var authenticator = try SoftAuthenticator(origin: "https://login.acme.test")
            let made = try await client.call(
                .post, "/auth/passkeys/register/verify", json: .object(["credential": .object(try authenticator.create(options.object))]), bearer: token)
            #expect(made.status == .created, "\(made.raw)")
            #expect(try await Self.login(client, &authenticator, tenant: acme.slug).status == .ok)
            // The default tenant knows nothing of that credential: an assertion that passes every
            // other check there (its origin, its RP ID) is refused.
            let before = try await app.scalar(acme, "SELECT sign_count::int8 FROM passkeys")
            #expect(try await Self.login(client, &authenticator, origin: "http://localhost:8080").code == "INVALID_CREDENTIALS")
            #expect(try await app.scalar(acme, "SELECT sign_count::int8 FROM passkeys") == before)
            await #expect(throws: AuthError.self) { _ = try await app.env.registry.updateSettings(id: acme.id, ["passkeyOrigins": ["ftp://x"]]) }
            await #expect(throws: AuthError.self) { _ = try await app.env.registry.updateSettings(id: acme.id, ["passkeyRpId": "https://x"]) }
        }
    }
}
