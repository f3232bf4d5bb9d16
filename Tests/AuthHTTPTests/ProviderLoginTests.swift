import AuthCore
import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HummingbirdTesting
import TestSupport
import Testing

/// Issue 19: logins through identity providers, each kind against its loopback fake
/// (`FakeIdentityProvider`), over HTTP against a real database.
@Suite struct ProviderLoginTests {
    static func login(_ client: some TestClientProtocol, _ provider: String, _ credentials: JSONObject, tenant: String? = nil) async throws -> Reply {
        var body: JSONObject = ["providerName": .string(provider), "credentials": .object(credentials)]
        if let tenant { body["tenantId"] = .string(tenant) }
        return try await client.call(.post, "/auth/login", json: .object(body))
    }

    static func userID(_ reply: Reply) -> String? { reply.object["user"]?.objectValue["id"]?.stringValue }

    @Test func idTokenLoginCreatesTheAccountOnceAndRefusesBadTokens() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { app, client in
                let tenant = try await app.defaultTenant()
                let first = try await Self.login(client, "oidc:test", ["idToken": .string(try await idp.idToken(sub: "u1", email: "Ann@Example.com"))])
                #expect(first.status == .ok, "\(first.raw)")
                let id = try #require(Self.userID(first))
                #expect(first.accessToken != nil)
                let again = try await Self.login(client, "oidc:test", ["idToken": .string(try await idp.idToken(sub: "u1", email: "ann@example.com"))])
                #expect(Self.userID(again) == id, "the same identity logs in as the same user")
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users") == 1)
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users WHERE email = 'ann@example.com' AND email_verified_at IS NOT NULL") == 1)
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM credentials") == 0, "no password was made up")
                let types = try await app.events(tenant).map(\.type)
                #expect(types.filter { $0 == "auth.user.created" }.count == 1)
                #expect(types.filter { $0 == "auth.identity.linked" }.count == 1)
                #expect(types.filter { $0 == "auth.logged_in" }.count == 2)
                // RS256, as Google and most issuers sign.
                let rsa = try await Self.login(client, "oidc:test", ["idToken": .string(try await idp.idToken(sub: "u1", kid: "rs"))])
                #expect(rsa.status == .ok && Self.userID(rsa) == id, "\(rsa.raw)")

                // Each wrong claim is refused as invalid credentials, and changes nothing.
                let wrong: [(String, String)] = [
                    ("audience", try await idp.idToken(sub: "u2", email: "b@example.com", audience: "another-client")),
                    ("issuer", try await idp.idToken(sub: "u2", email: "b@example.com", issuer: "https://evil.test")),
                    ("expired", try await idp.idToken(sub: "u2", email: "b@example.com", expiresIn: -120)),
                    ("unknown kid", try await idp.idToken(sub: "u2", email: "b@example.com", kid: "rogue")),
                    ("garbage", "not.a.token"),
                ]
                for (what, token) in wrong {
                    let reply = try await Self.login(client, "oidc:test", ["idToken": .string(token)])
                    #expect(reply.status == .unauthorized && reply.code == "INVALID_CREDENTIALS", "\(what): \(reply.raw)")
                }
                // A token signed by a key the issuer never published, under a published kid.
                var forged = try await idp.idToken(sub: "u2", email: "b@example.com", kid: "rogue").split(separator: ".").map(String.init)
                forged[0] = Base64URL.encode(Array(#"{"alg":"ES256","typ":"JWT","kid":"k1"}"#.utf8))
                #expect(try await Self.login(client, "oidc:test", ["idToken": .string(forged.joined(separator: "."))]).code == "INVALID_CREDENTIALS")
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users") == 1)
                #expect(try await app.events(tenant, type: "auth.login_failed").count == wrong.count + 1)

                // Nonce: the raw value or its SHA-256 in hex; a mismatch is refused.
                let nonce = "n-0S6_WzA2Mj"
                #expect(try await Self.login(client, "oidc:test", [
                    "idToken": .string(try await idp.idToken(sub: "u1", nonce: nonce)), "nonce": .string(nonce),
                ]).status == .ok)
                #expect(try await Self.login(client, "oidc:test", [
                    "idToken": .string(try await idp.idToken(sub: "u1", nonce: nonce)), "nonce": .string("other"),
                ]).code == "INVALID_CREDENTIALS")
                #expect(try await Self.login(client, "oidc:test", ["idToken": .string(try await idp.idToken(sub: "u1", nonce: nonce))]).code
                    == "INVALID_CREDENTIALS", "a token bound to a nonce needs it")
                // The RSA key is published without `alg` (as Entra ID does): a token whose header
                // names another algorithm for it is refused, and does not spoil the key for others.
                let rs512 = try await idp.idToken(sub: "u1", kid: "rs", rsaDigest: .sha512)
                #expect(try await Self.login(client, "oidc:test", ["idToken": .string(rs512)]).code == "INVALID_CREDENTIALS")
                #expect(try await Self.login(client, "oidc:test", ["idToken": .string(try await idp.idToken(sub: "u1", kid: "rs"))]).status == .ok)

                // The provider table: unknown names, missing fields.
                let unknown = try await Self.login(client, "myspace", ["idToken": .string("x")])
                #expect(unknown.status == .unauthorized && unknown.code == "INVALID_PROVIDER")
                let missing = try await Self.login(client, "oidc:test", [:])
                #expect(missing.status == .badRequest && missing.code == "MISSING_REQUIRED_FIELDS")
                let numeric = try await client.call(
                    .post, "/auth/login", json: .object(["providerName": "oidc:test", "credentials": .object(["idToken": .int(1)])]))
                #expect(numeric.status == .badRequest && numeric.code == "INVALID_INPUT")
            }
        }
    }

    @Test func keysAreRefetchedOnceForAnUnknownKidAndRotationIsFollowed() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { _, client in
                let first = try await idp.idToken(sub: "r1", email: "r@example.com")
                let rotated = try await idp.idToken(sub: "r1", kid: "k2")
                let rogue = try await idp.idToken(sub: "r1", kid: "rogue")
                // Concurrent logins on a cold cache share one fetch.
                let cold = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for _ in 0..<6 { group.addTask { try await Self.login(client, "oidc:test", ["idToken": .string(first)]) } }
                    return try await group.reduce(into: [Reply]()) { $0.append($1) }
                }
                #expect(cold.allSatisfy { $0.status == .ok }, "\(cold.map(\.raw))")
                #expect(idp.state.withLock { $0.jwksFetches } == 1, "one fetch, then the keys are cached")
                // The issuer rotates: tokens under its new key make authd look again, once,
                // and none of the concurrent ones is refused while that refetch runs.
                idp.state.withLock { $0.published.append("k2") }
                let next = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for _ in 0..<4 { group.addTask { try await Self.login(client, "oidc:test", ["idToken": .string(rotated)]) } }
                    return try await group.reduce(into: [Reply]()) { $0.append($1) }
                }
                #expect(next.allSatisfy { $0.status == .ok }, "\(next.map(\.raw))")
                #expect(idp.state.withLock { $0.jwksFetches } == 2)
                // A flood of made-up kids right after costs the issuer nothing more.
                for _ in 0..<5 {
                    let refused = try await Self.login(client, "oidc:test", ["idToken": .string(rogue)])
                    #expect(refused.code == "INVALID_CREDENTIALS")
                }
                #expect(idp.state.withLock { $0.jwksFetches } == 2, "refetches are rate-limited")
            }
        }
    }

    @Test func linkingNeedsAProviderVerifiedEmail() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { app, client in
                let tenant = try await app.defaultTenant()
                // Someone signed up with ann's address and a password, never verifying it.
                let squatter = try await client.signup("ann@example.com")
                let squatterID = try #require(Self.userID(squatter))
                let unverified = try await Self.login(client, "oidc:test", [
                    "idToken": .string(try await idp.idToken(sub: "ann", email: "ann@example.com", verified: false)),
                ])
                #expect(unverified.status == .unauthorized && unverified.code == "SOCIAL_EMAIL_NOT_VERIFIED")
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM identities WHERE provider = 'oidc:test'") == 0)
                // The provider vouches for the address, but the account never proved it owns it:
                // no link (it would share the account with whoever set it up).
                let verified = try await Self.login(client, "oidc:test", [
                    "idToken": .string(try await idp.idToken(sub: "ann", email: "ann@example.com")),
                ])
                #expect(verified.status == .conflict && verified.code == "ACCOUNT_NOT_VERIFIED")
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM identities WHERE provider = 'oidc:test'") == 0)
                let own = try await client.login("ann@example.com")
                #expect(own.status == .ok && Self.userID(own) == squatterID, "the account itself is untouched")

                // An account that verified its own address keeps its password when linked.
                let bob = try await client.signup("bob@example.com")
                let bobID = try #require(Self.userID(bob))
                #expect(try await app.scalar(tenant, "WITH v AS (UPDATE users SET email_verified_at = now() WHERE email = 'bob@example.com' RETURNING 1) SELECT count(*)::int8 FROM v") == 1)
                let linked = try await Self.login(client, "google", ["idToken": .string(try await idp.idToken(sub: "bob-g", email: "bob@example.com"))])
                #expect(linked.status == .ok && Self.userID(linked) == bobID)
                #expect(try await client.login("bob@example.com").status == .ok)

                // No address the provider vouches for: no account is made.
                let none = try await Self.login(client, "oidc:test", ["idToken": .string(try await idp.idToken(sub: "anon", email: nil, verified: nil))])
                #expect(none.code == "SOCIAL_EMAIL_NOT_VERIFIED")
            }
        }
    }

    @Test func tenantSettingsNarrowProvidersAndSignup() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { app, client in
                let tenant = try await app.tenant("prov")
                _ = try await app.env.registry.updateSettings(id: tenant.id, ["providers": ["google"], "providerSignup": false])
                let config = try await client.call(.get, "/auth/client-config", headers: ["x-tenant-id": tenant.slug])
                let names = config.object["providers"]?.arrayValue?.compactMap { $0.objectValue["name"]?.stringValue }
                #expect(names == ["google"])
                let all = try await client.call(.get, "/auth/client-config")
                #expect(all.object["providers"]?.arrayValue?.count == 6)
                for secret in [FakeIdentityProvider.githubClient.secret, FakeIdentityProvider.facebookApp.secret, idp.customSecret, "PRIVATE KEY"] {
                    #expect(!all.raw.contains(secret), "no provider secret reaches client-config")
                }

                let token = try await idp.idToken(sub: "t1", email: "t1@example.com")
                #expect(try await Self.login(client, "oidc:test", ["idToken": .string(token)], tenant: tenant.slug).code == "INVALID_PROVIDER")
                let closed = try await Self.login(client, "google", ["idToken": .string(token)], tenant: tenant.slug)
                #expect(closed.status == .forbidden && closed.code == "REGISTRATION_DISABLED")
                // An existing account still logs in.
                #expect(try await client.signup("t1@example.com", tenant: tenant.slug).status == .ok)
                #expect(try await app.scalar(tenant, "WITH v AS (UPDATE users SET email_verified_at = now() RETURNING 1) SELECT count(*)::int8 FROM v") == 1)
                #expect(try await Self.login(client, "google", ["idToken": .string(token)], tenant: tenant.slug).status == .ok)
                // The identity is the tenant's: the same Google user in the default tenant is a new account there.
                let elsewhere = try await Self.login(client, "google", ["idToken": .string(token)])
                #expect(elsewhere.status == .ok)
                #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM identities WHERE provider = 'google'") == 1)
            }
        }
    }

    @Test func appleCodeGoogleAccessTokenGitHubAndFacebook() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { app, client in
                let tenant = try await app.defaultTenant()
                // Apple: the code is exchanged with a client secret signed by the team's key.
                let appleToken = try await idp.idToken(sub: "apple-1", email: "ap@example.com")
                idp.state.withLock { $0.exchangedCodes["code-1"] = appleToken }
                let apple = try await Self.login(client, "apple", ["code": .string("code-1")])
                #expect(apple.status == .ok, "\(apple.raw)")
                #expect(try await Self.login(client, "apple", ["code": .string("code-1")]).code == "INVALID_CREDENTIALS", "codes are single use")

                // Google's access token: issued to us, then the profile.
                #expect(try await Self.login(client, "google", ["accessToken": .string("google-gail")]).status == .ok)
                #expect(try await Self.login(client, "google", ["accessToken": .string("google-other-gail")]).code == "INVALID_CREDENTIALS")

                // GitHub: the token must be our app's; the primary verified address links.
                idp.state.withLock {
                    $0.githubUsers["gh-ok"] = (id: 42, login: "octo", emails: [("octo@example.com", primary: true, verified: true)])
                    $0.githubUsers["gh-foreign"] = (id: 43, login: "other", emails: [("other@example.com", primary: true, verified: true)])
                    $0.githubUsers["gh-unverified"] = (id: 44, login: "unv", emails: [("ap@example.com", primary: true, verified: false)])
                    $0.githubAppTokens = ["gh-ok", "gh-unverified"]
                }
                let gh = try await Self.login(client, "github", ["accessToken": .string("gh-ok")])
                #expect(gh.status == .ok, "\(gh.raw)")
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM identities WHERE provider = 'github' AND provider_id = '42'") == 1)
                #expect(try await Self.login(client, "github", ["accessToken": .string("gh-foreign")]).code == "INVALID_CREDENTIALS")
                #expect(try await Self.login(client, "github", ["accessToken": .string("gh-unverified")]).code == "SOCIAL_EMAIL_NOT_VERIFIED")
                #expect(try await Self.login(client, "github", [:]).code == "MISSING_REQUIRED_FIELDS")

                // Facebook: debug_token with the app's credentials, /me with an appsecret_proof.
                idp.state.withLock {
                    $0.facebookUsers["fb-ok"] = (id: "1001", email: "fb@example.com", app: FakeIdentityProvider.facebookApp.id)
                    $0.facebookUsers["fb-foreign"] = (id: "1002", email: "fb2@example.com", app: "another-app")
                }
                #expect(try await Self.login(client, "facebook", ["accessToken": .string("fb-ok")]).status == .ok)
                #expect(try await Self.login(client, "facebook", ["accessToken": .string("fb-foreign")]).code == "INVALID_CREDENTIALS")
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users") == 4)
            }
        }
    }

    @Test func signedHTTPProviderAndItsFailures() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { app, client in
                let ok = try await Self.login(client, "partner", ["username": .string("carol"), "password": .string("right")])
                #expect(ok.status == .ok, "\(ok.raw)")
                let call = try #require(idp.state.withLock { $0.customCalls.last })
                #expect(call.body.contains(#""provider":"partner""#) && call.body.contains(#""username":"carol""#))
                #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM identities WHERE provider = 'partner' AND provider_id = 'p-carol'") == 1)
                #expect(try await Self.login(client, "partner", ["username": .string("carol"), "password": .string("wrong")]).code == "INVALID_CREDENTIALS")
                let missing = try await Self.login(client, "partner", ["username": .string("carol")])
                #expect(missing.code == "MISSING_REQUIRED_FIELDS" && missing.raw.contains("password"))
                idp.state.withLock { $0.customStatus = 500 }
                let down = try await Self.login(client, "partner", ["username": .string("carol"), "password": .string("right")])
                #expect(down.status == .serviceUnavailable && down.code == "PROVIDER_UNAVAILABLE" && down.headers[.retryAfter] != nil)
            }
        }
        // Nothing listening: 503, not 500.
        let closed = try ProviderRegistry(try ProviderCatalog.providers(from: [
            "partner": .object(["kind": "http", "url": "http://127.0.0.1:9/login", "secret": .string("whsec_" + Base64.encode(try SecureRandom.bytes(32)))]),
        ]))
        try await TestApp.with(configure: { $0.providers = closed }) { _, client in
            let reply = try await Self.login(client, "partner", ["username": .string("x")])
            #expect(reply.status == .serviceUnavailable && reply.code == "PROVIDER_UNAVAILABLE")
        }
    }

    /// An embedder's own provider (the `AuthProvider` protocol), with `skipMfa`.
    struct BadgeProvider: AuthProvider {
        let name = "badge"
        let requiredFields = ["badge"]
        let skipMFA = true
        func validate(_ credentials: JSONObject, context: ProviderContext) async throws -> ExternalIdentity {
            guard let badge = credentials["badge"]?.stringValue, badge.hasPrefix("B-") else { throw AuthError.invalidCredentials }
            return ExternalIdentity(
                subject: badge, email: "\(badge.lowercased())@badges.test", emailVerified: true,
                profile: ["name": .string("Badge \(badge)"), "note": .string("nul \u{0} inside"), "nested": .object([:])])
        }
    }

    @Test func swiftProviderIdentitiesListAndUnlink() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry(extra: [BadgeProvider()])
            try await TestApp.with(configure: {
                $0.providers = registry
                $0.passwordlessEnabled = false
            }) { app, client in
                let badge = try await Self.login(client, "badge", ["badge": .string("B-7")])
                #expect(badge.status == .ok)
                let token = try #require(badge.accessToken)
                let listed = try await client.call(.get, "/auth/identities", bearer: token)
                let providers = listed.body.arrayValue?.compactMap { $0.objectValue["provider"]?.stringValue }.sorted()
                #expect(providers == ["badge", "email"])
                // Only short plain text of a provider's profile is kept (a NUL would not fit in jsonb).
                let kept = listed.body.arrayValue?.first { $0.objectValue["provider"]?.stringValue == "badge" }?.objectValue["profile"]
                #expect(kept == .object(["name": .string("Badge B-7")]))
                let badgeID = try #require(listed.body.arrayValue?.first { $0.objectValue["provider"]?.stringValue == "badge" }?.objectValue["id"]?.stringValue)
                let emailID = try #require(listed.body.arrayValue?.first { $0.objectValue["provider"]?.stringValue == "email" }?.objectValue["id"]?.stringValue)
                // The only way in (no password, passwordless off) stays.
                let last = try await client.call(.delete, "/auth/identities/\(badgeID)", bearer: token)
                #expect(last.status == .conflict && last.code == "LAST_LOGIN_METHOD")
                #expect(try await client.call(.delete, "/auth/identities/\(emailID)", bearer: token).code == "IDENTITY_NOT_UNLINKABLE")
                // A second provider makes the first removable.
                #expect(try await Self.login(client, "oidc:test", ["idToken": .string(try await idp.idToken(sub: "b7", email: "b-7@badges.test"))]).status == .ok)
                #expect(try await client.call(.delete, "/auth/identities/\(badgeID)", bearer: token).status == .ok)
                #expect(try await client.call(.delete, "/auth/identities/\(badgeID)", bearer: token).code == "IDENTITY_NOT_FOUND")
                #expect(try await app.events(try await app.defaultTenant(), type: "auth.identity.unlinked").count == 1)
                // Someone else's identity is not found, not removed.
                let other = try #require(try await client.signup("zed@example.com").accessToken)
                #expect(try await client.call(.delete, "/auth/identities/\(emailID)", bearer: other).code == "IDENTITY_NOT_FOUND")
            }
        }
    }

    /// A provider's first login creates the account through the user lifecycle: `beforeCreate`
    /// and `afterCreate` run in the login's transaction, and a throw leaves nothing behind.
    @Test func providerSignupRunsTheLifecycleHooksInItsTransaction() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            let seen = Locked<[String]>([])
            var hooks = AuthHooks()
            hooks.user.beforeCreate = { new, _ in
                var changed = new
                changed.metadata["source"] = .string("social")
                return changed
            }
            hooks.user.afterCreate = { user, _, tx in
                // The identity is linked after this hook, in the same transaction: not there yet.
                let linked = try await tx.query("SELECT count(*)::int8 AS n FROM identities WHERE user_id = $1 AND provider <> 'email'", user.id)
                let n = try linked.first?.decode("n", as: Int.self) ?? -1
                seen.withLock { $0.append("\(user.email ?? "-"):\(user.metadata["source"]?.stringValue ?? "-"):\(n)") }
                if user.email?.hasPrefix("blocked") == true { throw AuthError.rejection(code: "DOMAIN_BLOCKED", message: "not here") }
            }
            try await TestApp.with(hooks: hooks, configure: { $0.providers = registry }) { app, client in
                let tenant = try await app.defaultTenant()
                #expect(try await Self.login(client, "google", ["idToken": .string(try await idp.idToken(sub: "h1", email: "hana@example.com"))]).status == .ok)
                let blocked = try await Self.login(client, "google", ["idToken": .string(try await idp.idToken(sub: "h2", email: "blocked@example.com"))])
                #expect(blocked.status == .forbidden && blocked.code == "DOMAIN_BLOCKED")
                #expect(seen.withLock { $0 } == ["hana@example.com:social:0", "blocked@example.com:social:0"])
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users WHERE email = 'blocked@example.com'") == 0)
                #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM identities WHERE provider_id = 'h2'") == 0)
                #expect(try await app.events(tenant, type: "auth.user.created").count == 1)
            }
        }
    }

    /// Two first logins through one identity at once (a double click) both log in, as one user.
    @Test func concurrentFirstLoginsMakeOneAccount() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { app, client in
                for round in 0..<5 {
                    let token = try await idp.idToken(sub: "dc-\(round)", email: "dc\(round)@example.com")
                    async let a = Self.login(client, "oidc:test", ["idToken": .string(token)])
                    async let b = Self.login(client, "oidc:test", ["idToken": .string(token)])
                    let (ra, rb) = try await (a, b)
                    #expect(ra.status == .ok && rb.status == .ok, "\(ra.raw) \(rb.raw)")
                    #expect(Self.userID(ra) == Self.userID(rb))
                }
                #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM users") == 5)
            }
        }
    }

    /// `skipMfa`: Google (by default) completes the login; GitHub (by default) asks for the
    /// second factor like a password login.
    @Test func skipMfaFollowsTheProvider() async throws {
        try await FakeIdentityProvider.with { idp in
            let registry = try idp.registry()
            try await TestApp.with(configure: { $0.providers = registry }) { app, client in
                let tenant = try await app.defaultTenant()
                idp.state.withLock {
                    $0.githubUsers["gh-mfa"] = (id: 77, login: "mo", emails: [("mo@example.com", primary: true, verified: true)])
                    $0.githubAppTokens = ["gh-mfa"]
                }
                #expect(try await Self.login(client, "github", ["accessToken": .string("gh-mfa")]).object["isRequiresMfa"] == .bool(false))
                #expect(try await app.scalar(tenant, "WITH v AS (UPDATE users SET is_mfa_enabled = true RETURNING 1) SELECT count(*)::int8 FROM v") == 1)
                let github = try await Self.login(client, "github", ["accessToken": .string("gh-mfa")])
                #expect(github.status == .ok && github.object["isRequiresMfa"] == .bool(true))
                // Google links to the account by its verified address: that first login passes
                // the account's MFA; later ones are Google's to vouch for (skipMfa).
                let token = try await idp.idToken(sub: "mo-g", email: "mo@example.com")
                let linking = try await Self.login(client, "google", ["idToken": .string(token)])
                #expect(linking.status == .ok && linking.object["isRequiresMfa"] == .bool(true))
                let google = try await Self.login(client, "google", ["idToken": .string(token)])
                #expect(google.status == .ok && google.object["isRequiresMfa"] == .bool(false))
            }
        }
    }

    @Test func configurationMistakesAreRefusedAtStart() throws {
        #expect(throws: ProviderConfigurationError.self) { try ProviderCatalog.providers(from: ["google": .object(["clientID": "typo"])]) }
        #expect(throws: ProviderConfigurationError.self) { try ProviderCatalog.providers(from: ["oidc:x": .object(["issuer": "https://i"])]) }
        #expect(throws: ProviderConfigurationError.self) { try ProviderCatalog.providers(from: ["myspace": .object([:])]) }
        #expect(throws: ProviderConfigurationError.self) {
            try ProviderCatalog.providers(from: ["p": .object(["kind": "http", "url": "http://x", "secret": "whsec_c2hvcnQ="])])
        }
        #expect(throws: ProviderConfigurationError.self) { try ProviderRegistry([BadgeProvider(), BadgeProvider()]) }
        #expect(throws: ProviderConfigurationError.self, "GitHub needs its app's credentials") {
            try ProviderCatalog.providers(from: ["github": .object([:])])
        }
        #expect(throws: ProviderConfigurationError.self, "provider URLs are https") {
            try ProviderCatalog.providers(from: ["oidc:x": .object(["issuer": "https://i", "clientIds": "c", "jwksUrl": "http://idp.example.com/jwks"])])
        }
        #expect(throws: ProviderConfigurationError.self) { try ProviderCatalog.providers(from: ["google": .object(["clientIds": ""])]) }
        #expect(throws: ProviderConfigurationError.self) {
            // A valid GitHub configuration, so only the reserved name can be what is refused.
            try ProviderRegistry(try ProviderCatalog.providers(from: ["email": .object(["kind": "github", "clientId": "c", "clientSecret": "s"])]))
        }
    }
}
