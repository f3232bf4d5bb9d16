import AuthCore
import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import JWTKit
import TestSupport
import Testing

/// Access tokens and the guard: reference §12 #11, #13, #14, #16; requirement 8.
@Suite struct TokenGuardTests {
    @Test func accessTokenIsEdDSAWithKidAndTheClaims() async throws {
        try await TestApp.with { app, client in
            _ = try await client.signup("ann@example.com")
            let login = try await client.login("ann@example.com")
            let (header, payload) = try jwtParts(try #require(login.accessToken))
            #expect(header["alg"] == .string("EdDSA"))
            let kid = try #require(header["kid"]?.stringValue)
            #expect(app.env.tokens.jwks["keys"].map { "\($0)" }?.contains(kid) == true)
            for claim in ["iss", "aud", "sub", "iat", "exp", "jti", "sessionId", "tenantId", "roles", "permissions"] {
                #expect(payload[claim] != nil, "missing \(claim)")
            }
            #expect(payload["type"] == .string("access"))
            #expect(payload["isMfaEnabled"] == .bool(false) && payload["isMfaVerified"] == .bool(false))
            guard case .int(let iat)? = payload["iat"], case .int(let exp)? = payload["exp"] else {
                Issue.record("iat/exp must be integers")
                return
            }
            #expect(exp - iat == 900)
        }
    }

    @Test func guardOutcomes() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let access = try #require(signup.accessToken)
            let refresh = try #require(signup.refreshToken)
            #expect(try await client.call(.get, "/auth/me", bearer: access).status == .ok)

            let none = try await client.call(.get, "/auth/me")
            #expect(none.status == .unauthorized && none.code == "NO_AUTH_PROVIDED")
            let basic = try await client.call(.get, "/auth/me", headers: ["authorization": "Basic YTpi"])
            #expect(basic.status == .unauthorized && basic.code == "INVALID_AUTH_TYPE")

            // Tampered payload: flip a claim, keep the signature.
            var parts = access.split(separator: ".").map(String.init)
            var payload = try jwtParts(access).payload
            payload["sub"] = .string(UUID().uuidString.lowercased())
            parts[1] = Base64URL.encode(Array(JSONValue.object(payload).jsonText.utf8))
            let tampered = try await client.call(.get, "/auth/me", bearer: parts.joined(separator: "."))
            #expect(tampered.status == .unauthorized && tampered.code == "INVALID_TOKEN")

            // alg:none with our kid and no signature.
            let header = try jwtParts(access).header
            var noneHeader = header
            noneHeader["alg"] = .string("none")
            let algNone = Base64URL.encode(Array(JSONValue.object(noneHeader).jsonText.utf8)) + "." + parts[1] + "."
            #expect(try await client.call(.get, "/auth/me", bearer: algNone).code == "INVALID_TOKEN")

            // Unknown kid and missing kid.
            var otherKid = header
            otherKid["kid"] = .string("not-a-key")
            let originalPayload = access.split(separator: ".")[1]
            let signature = access.split(separator: ".")[2]
            let unknownKid = Base64URL.encode(Array(JSONValue.object(otherKid).jsonText.utf8)) + ".\(originalPayload).\(signature)"
            #expect(try await client.call(.get, "/auth/me", bearer: unknownKid).code == "INVALID_TOKEN")
            var noKid = header
            noKid["kid"] = nil
            let missingKid = Base64URL.encode(Array(JSONValue.object(noKid).jsonText.utf8)) + ".\(originalPayload).\(signature)"
            #expect(try await client.call(.get, "/auth/me", bearer: missingKid).code == "INVALID_TOKEN")

            // A refresh token is not an access token, nor the reverse.
            #expect(try await client.call(.get, "/auth/me", bearer: refresh).code == "INVALID_TOKEN")
            let accessAsRefresh = try await client.refresh(access)
            #expect(accessAsRefresh.status == .unauthorized && accessAsRefresh.code == "REFRESH_TOKEN_INVALID")
            #expect(try await client.refresh("garbage").code == "REFRESH_TOKEN_INVALID")
            _ = app
        }
    }

    @Test func expiredTokenIsTokenExpiredAndForgedOneIsInvalid() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let signupToken = try #require(signup.accessToken)
            let payload = try jwtParts(signupToken).payload
            let past = Date().addingTimeInterval(-3600)
            var claims = AccessTokenClaims(
                issuer: "authd", audience: "authd", subject: try #require(payload["sub"]?.stringValue), issuedAt: past.addingTimeInterval(-900),
                expiresAt: past, tokenID: "x", sessionID: try #require(payload["sessionId"]?.stringValue),
                tenantID: try #require(payload["tenantId"]?.stringValue), roles: [], permissions: [], isMfaEnabled: false,
                isMfaVerified: false)
            let expired = try await app.env.tokens.sign(claims)
            let r = try await client.call(.get, "/auth/me", bearer: expired)
            #expect(r.status == .unauthorized && r.code == "TOKEN_EXPIRED")
            // Same claims signed by a key we do not hold, under our kid: forged.
            claims.expiresAt = Date().addingTimeInterval(600)
            let kid = try #require(try jwtParts(signupToken).header["kid"]?.stringValue)
            let foreign = JWTKeyCollection()
            await foreign.add(eddsa: EdDSA.PrivateKey(backing: Curve25519.Signing.PrivateKey()), kid: JWKIdentifier(string: kid))
            let forged = try await foreign.sign(claims, kid: JWKIdentifier(string: kid))
            #expect(try await client.call(.get, "/auth/me", bearer: forged).code == "INVALID_TOKEN")
            // HS256 signed with the public key bytes (algorithm confusion).
            let jwk = try #require(app.env.tokens.jwks["keys"].flatMap { if case .array(let a) = $0 { a.first } else { nil } })
            let x = try #require(jwk["x"]?.stringValue)
            let hmac = JWTKeyCollection()
            await hmac.add(hmac: HMACKey(from: Array(x.utf8) + [UInt8](repeating: 0, count: 32)), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
            let confused = try await hmac.sign(claims, kid: JWKIdentifier(string: kid))
            #expect(try await client.call(.get, "/auth/me", bearer: confused).code == "INVALID_TOKEN")
        }
    }

    @Test func keyRotationKeepsOldTokensUntilRetiredAndRefusesUnknownKids() async throws {
        try await TestApp.with { app, client in
            let first = try await client.signup("ann@example.com")
            let before = try #require(first.accessToken)
            let keys = SigningKeys(db: app.env.db, sealer: SecretSealer(keyring: app.keyring))
            let newKid = try await keys.rotate(publishAhead: .zero, overlap: .seconds(900))
            try await app.env.tokens.reload()
            let second = try await client.login("ann@example.com")
            let after = try #require(second.accessToken)
            #expect(try jwtParts(after).header["kid"] == .string(newKid))
            #expect(try await client.call(.get, "/auth/me", bearer: before).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: after).status == .ok)
            let jwksKids = "\(app.env.tokens.jwks)"
            #expect(jwksKids.contains(newKid))
            // Still refused after the rotation: a kid nobody issued, and no kid at all.
            var header = try jwtParts(after).header
            header["kid"] = .string("nope")
            let rest = after.split(separator: ".").dropFirst().joined(separator: ".")
            #expect(try await client.call(.get, "/auth/me", bearer: Base64URL.encode(Array(JSONValue.object(header).jsonText.utf8)) + "." + rest).code == "INVALID_TOKEN")
            header["kid"] = nil
            #expect(try await client.call(.get, "/auth/me", bearer: Base64URL.encode(Array(JSONValue.object(header).jsonText.utf8)) + "." + rest).code == "INVALID_TOKEN")
            // Retire the old key now: its tokens stop verifying.
            try await app.pool.query("UPDATE auth.signing_keys SET retires_at = now() WHERE kid <> $1", newKid)
            try await app.env.tokens.reload()
            #expect(try await client.call(.get, "/auth/me", bearer: before).code == "INVALID_TOKEN")
        }
    }

    /// API.md: JWKS publishes the current and the next key, so a rotation promotes a key every
    /// verifier already cached (JWKS is cached for `max-age`), and makes the following one.
    @Test func jwksAlwaysPublishesTheNextKeyAndRotationPromotesIt() async throws {
        try await TestApp.with { app, client in
            func kids() async throws -> [String] {
                let r = try await client.call(.get, "/.well-known/jwks.json")
                #expect(r.headers[.cacheControl] == "public, max-age=\(SigningKeys.jwksMaxAge.wholeSeconds)")
                guard case .array(let keys)? = r.object["keys"] else { return [] }
                return keys.compactMap { $0["kid"]?.stringValue }
            }
            let access = try #require(try await client.signup("ann@example.com").accessToken)
            let signing = try #require(try jwtParts(access).header["kid"]?.stringValue)
            let before = try await kids()
            #expect(before.count == 2, "current + next: \(before)")
            let next = try #require(before.first { $0 != signing })
            // Promote: the key published all along signs at once (publish-ahead counted from its
            // creation; zero here), and a new next key appears.
            let promoted = try await SigningKeys(db: app.env.db, sealer: SecretSealer(keyring: app.keyring))
                .rotate(publishAhead: .zero, overlap: .seconds(900))
            #expect(promoted == next)
            try await app.env.tokens.reload()
            let after = try await kids()
            #expect(after.count == 3 && after.contains(signing) && after.contains(next), "old (overlap), current, new next: \(after)")
            let login = try await client.login("ann@example.com")
            let loginAccess = try #require(login.accessToken)
            #expect(try jwtParts(loginAccess).header["kid"]?.stringValue == next)
        }
    }

    /// A rotation scheduled less than the JWKS max-age after its next key was created waits:
    /// the key signs only once every cached JWKS holds it.
    @Test func promotionWaitsOutThePublishAhead() async throws {
        try await TestApp.with { app, _ in
            let keys = SigningKeys(db: app.env.db, sealer: SecretSealer(keyring: app.keyring))
            let kid = try await keys.rotate(publishAhead: SigningKeys.jwksMaxAge, overlap: .seconds(900))
            let promoted = try #require(try await keys.load().first { $0.kid == kid })
            let activates = try #require(promoted.activatesAt)
            #expect(activates.timeIntervalSinceNow > 250, "signs ~300 s after the next key was published")
            try await app.env.tokens.reload()
            #expect(!promoted.isActive(at: Date()))
        }
    }

    @Test func tokenOfOneTenantIsRefusedForAnother() async throws {
        try await TestApp.with { app, client in
            let a = try await app.tenant("a")
            let b = try await app.tenant("b")
            let signup = try await client.signup("ann@example.com", tenant: a.slug)
            let token = try #require(signup.accessToken)
            #expect(try await client.call(.get, "/auth/me", bearer: token, headers: ["x-tenant-id": a.slug]).status == .ok)
            // Names resolve case-insensitively everywhere, so the guard compares them so too.
            #expect(try await client.call(.get, "/auth/me", bearer: token, headers: ["x-tenant-id": a.slug.uppercased()]).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: token, headers: ["x-tenant-id": a.id.uuidString.uppercased()]).status == .ok)
            let cross = try await client.call(.get, "/auth/me", bearer: token, headers: ["x-tenant-id": b.id.uuidString])
            #expect(cross.status == .forbidden && cross.code == "INVALID_TENANT")
        }
    }

    /// A tenant deleted under a live token (its row and schema gone before this process heard
    /// of it): its requests answer 401 `SESSION_NOT_FOUND`. A table missing from a tenant that
    /// still exists is a fault of the installation, answered 500 — not a reason to log anyone out.
    @Test func aDeletedTenantLogsOutButAMissingTableIsAFault() async throws {
        try await TestApp.with { app, client in
            let a = try await app.tenant("a")
            let b = try await app.tenant("b")
            let annToken = try #require(try await client.signup("ann@example.com", tenant: a.slug).accessToken)
            let bobToken = try #require(try await client.signup("bob@example.com", tenant: b.slug).accessToken)
            _ = try await app.pool.withTransaction { tx in
                try await tx.query("DELETE FROM auth.tenants WHERE id = $1", a.id)
                try await tx.query("DROP SCHEMA \(a.schemaName) CASCADE")
                try await tx.query("DROP TABLE \(b.schemaName).sessions CASCADE")
            }
            #expect(try await client.call(.get, "/auth/me", bearer: annToken).code == "SESSION_NOT_FOUND")
            let broken = try await client.call(.get, "/auth/me", bearer: bobToken)
            #expect(broken.status == .internalServerError && broken.code == "INTERNAL_ERROR", "\(broken.raw)")
        }
    }

    @Test func jwksPublishesOnlyPublicKeys() async throws {
        try await TestApp.with { _, client in
            let r = try await client.call(.get, "/.well-known/jwks.json")
            #expect(r.status == .ok)
            guard case .array(let keys)? = r.object["keys"], case .object(let key)? = keys.first else {
                Issue.record("no keys")
                return
            }
            #expect(key["kty"] == .string("OKP") && key["crv"] == .string("Ed25519") && key["d"] == nil)
        }
    }
}
