import AuthCore
import AuthCrypto
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestSupport
import Testing

/// Reference behaviours 21–30 and security requirements 15, 19, 20 over HTTP, with TOTP codes
/// computed here independently of authd (RFC 6238 as an authenticator app does it).
@Suite struct MFATests {
    /// An authenticator app: base32 secret, HMAC-SHA-1, 30 s, 6 digits.
    struct App {
        let secret: [UInt8]

        init(base32: String) throws {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
            var bits = "", out: [UInt8] = []
            for c in base32 {
                let i = try #require(alphabet.firstIndex(of: c))
                bits += String(String(i, radix: 2).reversed()).padding(toLength: 5, withPad: "0", startingAt: 0).reversed()
            }
            var index = bits.startIndex
            while bits.distance(from: index, to: bits.endIndex) >= 8 {
                let next = bits.index(index, offsetBy: 8)
                out.append(UInt8(bits[index..<next], radix: 2)!)
                index = next
            }
            secret = out
        }

        func code(at date: Date) -> String {
            var counter = UInt64(date.timeIntervalSince1970 / 30).bigEndian
            let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: Data(bytes: &counter, count: 8), using: SymmetricKey(data: secret)))
            let o = Int(mac[19] & 0xf)
            let n = (UInt32(mac[o] & 0x7f) << 24 | UInt32(mac[o + 1]) << 16 | UInt32(mac[o + 2]) << 8 | UInt32(mac[o + 3])) % 1_000_000
            return String(format: "%06u", n)
        }
    }

    /// Signs ann up, enrols an authenticator and turns MFA on; returns the app and her token.
    static func enrolled(_ client: some TestClientProtocol, clock: Locked<Date>) async throws -> (App, String) {
        let token = try #require(try await client.signup("ann@example.com").accessToken)
        let setup = try await client.call(.post, "/auth/mfa/setup-totp", json: .object([:]), bearer: token)
        #expect(setup.status == .ok)
        let otpauth = try #require(setup.object["otpAuthUrl"]?.stringValue)
        #expect(otpauth.hasPrefix("otpauth://totp/authd:ann@example.com?") && otpauth.contains("issuer=authd"))
        let app = try App(base32: try #require(setup.object["secret"]?.stringValue))
        #expect(try await client.call(.post, "/auth/mfa/toggle", json: .object(["enabled": .bool(true)]), bearer: token).code
            == "MFA_CANNOT_ENABLE_WITHOUT_METHOD")
        let verified = try await client.call(.post, "/auth/mfa/verify-totp-setup", json: .object(["code": .string(app.code(at: clock.value))]), bearer: token)
        #expect(verified.status == .ok)
        #expect(try await client.call(.post, "/auth/mfa/toggle", json: .object(["enabled": .bool(true)]), bearer: token).status == .ok)
        return (app, token)
    }

    /// The elements of a JSON array (nil for anything else).
    static func array(_ value: JSONValue?) -> [JSONValue]? {
        if case .array(let items)? = value { return items }
        return nil
    }

    /// Signs ann up, verifies her e-mail and turns MFA on with it; returns the tenant.
    static func emailMFA(_ app: TestApp, _ client: some TestClientProtocol) async throws -> Tenant {
        let token = try #require(try await client.signup("ann@example.com").accessToken)
        let tenant = try await app.defaultTenant()
        _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
        let verification = try await app.code(tenant, type: "auth.email.verification.requested").code
        _ = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(verification)]), bearer: token)
        #expect(try await client.call(.post, "/auth/mfa/toggle", json: .object(["enabled": .bool(true)]), bearer: token).status == .ok)
        return tenant
    }

    static func clocked() -> (Locked<Date>, @Sendable () -> Date) {
        let clock = Locked(Date())
        return (clock, { clock.value })
    }

    @Test func aChallengeTokenReachesOnlyTheMFARoutesUntilATOTPCodePasses() async throws {
        let (clock, now) = Self.clocked()
        try await TestApp.with(now: now) { app, client in
            _ = try await client.signup("bob@example.com")
            let (totp, enrolling) = try await Self.enrolled(client, clock: clock)
            #expect(try await client.call(.get, "/auth/me", bearer: enrolling).status == .ok)  // the enrolling session stays
            clock.withLock { $0 += 30 }

            let login = try await client.login("ann@example.com")
            #expect(login.object["isRequiresMfa"] == .bool(true))
            #expect(login.object["mfaMethods"] == .array([.string("totp")]) && login.object["defaultMfaMethod"] == .string("totp"))
            let challenge = try #require(login.accessToken)
            #expect(try jwtParts(challenge).payload["isMfaVerified"] == .bool(false))
            // Behaviour 21 and 22: MFA_REQUIRED elsewhere, the MFA status route answers, set-up routes refuse.
            #expect(try await client.call(.get, "/auth/me", bearer: challenge).code == "MFA_REQUIRED")
            #expect(try await client.call(.get, "/auth/mfa/status", bearer: challenge).status == .ok)
            for path in ["/auth/mfa/setup-totp", "/auth/mfa/generate-recovery-codes", "/auth/mfa/toggle"] {
                #expect(try await client.call(.post, path, json: .object(["enabled": .bool(false)]), bearer: challenge).code == "MFA_REQUIRED")
            }
            // A wrong code, then the right one: tokens of the same session, verified.
            let wrong = try await client.call(.post, "/auth/mfa/verify", json: .object(["method": .string("totp"), "code": .string("000000")]), bearer: challenge)
            #expect(wrong.status == .unauthorized && wrong.code == "MFA_CODE_INVALID")
            let code = totp.code(at: clock.value)
            let passed = try await client.call(.post, "/auth/mfa/verify", json: .object(["method": .string("totp"), "code": .string(code)]), bearer: challenge)
            #expect(passed.status == .ok)
            let full = try #require(passed.accessToken)
            #expect(try jwtParts(full).payload["isMfaVerified"] == .bool(true))
            #expect(try jwtParts(full).payload["sessionId"] == (try jwtParts(challenge).payload["sessionId"]))
            #expect(try await client.call(.get, "/auth/me", bearer: full).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: challenge).code == "MFA_REQUIRED")
            // Requirement 19: the used code cannot be replayed in its window.
            let second = try #require(try await client.login("ann@example.com").accessToken)
            let replay = try await client.call(.post, "/auth/mfa/verify", json: .object(["method": .string("totp"), "code": .string(code)]), bearer: second)
            #expect(replay.code == "MFA_CODE_INVALID")
            // One step later (±1 step accepted), a fresh code passes.
            clock.withLock { $0 += 30 }
            let later = try await client.call(
                .post, "/auth/mfa/verify", json: .object(["method": .string("totp"), "code": .string(totp.code(at: clock.value))]), bearer: second)
            #expect(later.status == .ok)
            #expect(try await app.events(try await app.defaultTenant(), type: "auth.two_factor_verified").count == 2)
        }
    }

    /// Behaviours 23 and 25: an e-mail challenge code voids the one before, verifies once.
    @Test func anEmailChallengeCodeVoidsTheLastAndVerifiesOnce() async throws {
        try await TestApp.with(configure: { $0.mfa.methods = [.email] }) { app, client in
            let tenant = try await Self.emailMFA(app, client)
            let challenge = try #require(try await client.login("ann@example.com").accessToken)
            func send() async throws -> String {
                #expect(try await client.call(.post, "/auth/mfa/challenge", json: .object(["method": .string("email")]), bearer: challenge).status == .ok)
                return try await app.code(tenant, type: "auth.two_factor_code_sent").code
            }
            let first = try await send()
            let second = try await send()
            func verify(_ code: String) async throws -> Reply {
                try await client.call(.post, "/auth/mfa/verify", json: .object(["method": .string("email"), "code": .string(code)]), bearer: challenge)
            }
            if first != second { #expect(try await verify(first).code == "MFA_CODE_INVALID") }
            #expect(try await verify(second).status == .ok)
            #expect(try await verify(second).code == "MFA_CODE_INVALID")
            // An SMS code is not available (no verified phone, method not allowed).
            #expect(try await client.call(.post, "/auth/mfa/challenge", json: .object(["method": .string("sms")]), bearer: challenge).code
                == "MFA_METHOD_NOT_AVAILABLE")
        }
    }

    /// Behaviour 30 and requirement 20: a set of ≥ 10 single-use codes; a new set voids the old;
    /// a code completes a login once; reset-totp removes the authenticators and turns MFA off
    /// when nothing else is left.
    @Test func recoveryCodesWorkOnceAndResetTOTPTurnsMFAOff() async throws {
        let (clock, now) = Self.clocked()
        try await TestApp.with(now: now) { app, client in
            let (_, token) = try await Self.enrolled(client, clock: clock)
            let old = try await client.call(.post, "/auth/mfa/generate-recovery-codes", json: .object([:]), bearer: token)
            let oldCodes = try #require(Self.array(old.object["codes"])).compactMap(\.stringValue)
            let fresh = try await client.call(.post, "/auth/mfa/generate-recovery-code", json: .object([:]), bearer: token)
            let codes = try #require(Self.array(fresh.object["codes"])).compactMap(\.stringValue)
            #expect(codes.count >= 10 && Set(codes).count == codes.count)
            #expect(codes.allSatisfy { $0.count == 14 && $0.split(separator: "-").count == 3 })
            let challenge = try #require(try await client.login("ann@example.com").accessToken)
            func recover(_ code: String) async throws -> Reply {
                try await client.call(.post, "/auth/mfa/verify-recovery-code", json: .object(["code": .string(code)]), bearer: challenge)
            }
            #expect(try await recover(oldCodes[0]).code == "MFA_RECOVERY_CODE_INVALID")
            let passed = try await recover(codes[0].lowercased())
            #expect(passed.status == .ok && passed.accessToken != nil)
            let next = try #require(try await client.login("ann@example.com").accessToken)
            #expect(try await client.call(.post, "/auth/mfa/verify-recovery-code", json: .object(["code": .string(codes[0])]), bearer: next).code
                == "MFA_RECOVERY_CODE_INVALID")
            let reset = try await client.call(.post, "/auth/mfa/reset-totp", json: .object(["code": .string(codes[1])]), bearer: next)
            #expect(reset.status == .ok)
            let tenant = try await app.defaultTenant()
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM mfa_devices") == 0)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users WHERE is_mfa_enabled") == 0)
            #expect(try await client.login("ann@example.com").object["isRequiresMfa"] == .bool(false))
        }
    }

    /// Behaviour 26: a trusted device skips MFA until it expires.
    @Test func aTrustedDeviceSkipsMFAUntilItExpires() async throws {
        let (clock, now) = Self.clocked()
        try await TestApp.with(now: now) { app, client in
            let (totp, _) = try await Self.enrolled(client, clock: clock)
            let (trust, _) = try await Self.trustedLogin(client, totp: totp, clock: clock)
            let skipped = try await client.login("ann@example.com", headers: ["x-device-trust": trust])
            #expect(skipped.object["isRequiresMfa"] == .bool(false))
            #expect(try await client.call(.get, "/auth/me", bearer: try #require(skipped.accessToken)).status == .ok)
            #expect(try await client.login("ann@example.com", headers: ["x-device-trust": trust + "x"]).object["isRequiresMfa"] == .bool(true))
            _ = try await app.scalar(
                try await app.defaultTenant(),
                "WITH u AS (UPDATE trusted_devices SET expires_at = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            #expect(try await client.login("ann@example.com", headers: ["x-device-trust": trust]).object["isRequiresMfa"] == .bool(true))
        }
    }

    /// Behaviour 29 and requirement 15: only the owner deletes a device; enrolment ends the
    /// user's other sessions; secrets and codes are not in a dump.
    @Test func devicesAreTheOwnersAndSecretsStaySealed() async throws {
        let (clock, now) = Self.clocked()
        let db = try await TestDatabases.shared.migrated()
        let secrets = try await TestApp.with(now: now, database: db) { app, client in
            let other = try #require(try await client.signup("bob@example.com").accessToken)
            let (totp, token) = try await Self.enrolled(client, clock: clock)
            let devices = try await client.call(.get, "/auth/mfa/devices", bearer: token)
            let id = try #require(Self.array(devices.body)?.first?["id"]?.stringValue)
            let theft = try await client.call(.delete, "/auth/mfa/devices/\(id)", bearer: other)
            #expect(theft.status == .notFound)
            #expect(try await app.scalar(try await app.defaultTenant(), "SELECT count(*)::int8 FROM mfa_devices") == 1)
            let codes = try await client.call(.post, "/auth/mfa/generate-recovery-codes", json: .object([:]), bearer: token)
            var secrets = try #require(Self.array(codes.object["codes"])).compactMap(\.stringValue).map { $0.replacingOccurrences(of: "-", with: "") }
            secrets.append(totp.secret.map { String(format: "%02x", $0) }.joined())
            return secrets
        }
        let dump = try db.dump()
        for secret in secrets { #expect(!dump.contains(secret)) }
    }

    @Test func enrollingEndsTheOtherSessions() async throws {
        let (clock, now) = Self.clocked()
        try await TestApp.with(now: now) { _, client in
            _ = try await client.signup("zed@example.com")
            let elsewhere = try #require(try await client.login("zed@example.com").accessToken)
            let token = try #require(try await client.login("zed@example.com").accessToken)
            let setup = try await client.call(.post, "/auth/mfa/setup-totp", json: .object([:]), bearer: token)
            let totp = try App(base32: try #require(setup.object["secret"]?.stringValue))
            #expect(try await client.call(.post, "/auth/mfa/verify-totp-setup", json: .object(["code": .string(totp.code(at: clock.value))]), bearer: token).status == .ok)
            #expect(try await client.call(.get, "/auth/me", bearer: elsewhere).code == "SESSION_NOT_FOUND")
            #expect(try await client.call(.get, "/auth/me", bearer: token).status == .ok)
        }
    }

    /// Requirement 22: factor changes need a recent proof in the session; the password renews it.
    @Test func changingFactorsNeedsARecentProof() async throws {
        try await TestApp.with { app, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let tenant = try await app.defaultTenant()
            _ = try await app.scalar(tenant, "WITH u AS (UPDATE sessions SET authenticated_at = now() - interval '1 hour' RETURNING 1) SELECT count(*)::int8 FROM u")
            for (path, body) in [("/auth/mfa/setup-totp", JSONObject()), ("/auth/mfa/generate-recovery-codes", [:]), ("/auth/api-keys", ["name": .string("k")])] {
                let r = try await client.call(.post, path, json: .object(body), bearer: token)
                #expect(r.status == .unauthorized && r.code == "REAUTHENTICATION_REQUIRED", "\(path)")
            }
            #expect(try await client.call(.post, "/auth/reauthenticate", json: .object(["password": .string("wrong password here")]), bearer: token).code
                == "INVALID_CREDENTIALS")
            #expect(try await client.call(.post, "/auth/reauthenticate", json: .object(["password": .string("correct horse battery")]), bearer: token).status == .ok)
            #expect(try await client.call(.post, "/auth/mfa/setup-totp", json: .object([:]), bearer: token).status == .ok)
        }
    }

    /// Trusted devices are listed without their tokens and revocable; a password change forgets them.
    @Test func trustedDevicesAreRevocable() async throws {
        let (clock, now) = Self.clocked()
        try await TestApp.with(now: now) { _, client in
            let (totp, _) = try await Self.enrolled(client, clock: clock)
            let (trust, full) = try await Self.trustedLogin(client, totp: totp, clock: clock)
            let listed = try await client.call(.get, "/auth/mfa/trusted-devices", bearer: full)
            #expect(!listed.raw.contains(trust))
            let id = try #require(Self.array(listed.body)?.first?["id"]?.stringValue)
            #expect(try await client.call(.delete, "/auth/mfa/trusted-devices/\(id)", bearer: full).status == .ok)
            #expect(try await client.login("ann@example.com", headers: ["x-device-trust": trust]).object["isRequiresMfa"] == .bool(true))
            // A password change forgets the devices trusted before it.
            let (again, current) = try await Self.trustedLogin(client, totp: totp, clock: clock)
            let changed = try await client.call(
                .post, "/auth/change-password",
                json: .object(["currentPassword": .string("correct horse battery"), "newPassword": .string("another fine passphrase")]), bearer: current)
            #expect(changed.status == .ok)
            // The new session keeps the verified standing of the one that changed the password.
            #expect(try await client.call(.get, "/auth/me", bearer: try #require(changed.accessToken)).status == .ok)
            #expect(try await client.login("ann@example.com", "another fine passphrase", headers: ["x-device-trust": again]).object["isRequiresMfa"]
                == .bool(true))
        }
    }

    /// Behaviour 28's other refusals: MFA off for the deployment, or not the user's to toggle.
    @Test func toggleRefusesWhenMFAIsOffOrNotTheUsersToChange() async throws {
        try await TestApp.with(configure: { $0.mfa.enabled = false }) { _, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let r = try await client.call(.post, "/auth/mfa/toggle", json: .object(["enabled": .bool(true)]), bearer: token)
            #expect(r.status == .forbidden && r.code == "MFA_NOT_ENABLED")
            #expect(try await client.call(.post, "/auth/mfa/setup-totp", json: .object([:]), bearer: token).code == "MFA_NOT_ENABLED")
        }
        try await TestApp.with(configure: { $0.mfa.allowUserToggle = false }) { _, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let r = try await client.call(.post, "/auth/mfa/toggle", json: .object(["enabled": .bool(true)]), bearer: token)
            #expect(r.status == .forbidden && r.code == "MFA_TOGGLING_NOT_ALLOWED")
        }
    }

    /// A passwordless login by e-mail cannot pass MFA with another e-mail code (one inbox is one factor).
    @Test func thePasswordlessChannelIsNotASecondFactor() async throws {
        try await TestApp.with(configure: { $0.mfa.methods = [.email] }) { app, client in
            let tenant = try await Self.emailMFA(app, client)
            _ = try await client.call(.post, "/auth/passwordless/send", json: .object(["identifier": .string("ann@example.com")]))
            let code = try await app.code(tenant, type: "auth.passwordless.code.requested").code
            let login = try await PasswordlessTests.login(client, "ann@example.com", code)
            #expect(login.object["isRequiresMfa"] == .bool(true) && login.object["mfaMethods"] == .array([]))
            let challenge = try #require(login.accessToken)
            #expect(try await client.call(.post, "/auth/mfa/challenge", json: .object(["method": .string("email")]), bearer: challenge).code
                == "MFA_METHOD_NOT_AVAILABLE")
        }
    }

    /// Recovery codes made under one AUTH_SECRET_KEY still work after it is rotated (the old key
    /// kept in the ring).
    @Test func recoveryCodesSurviveAKeyRotation() async throws {
        let (clock, now) = Self.clocked()
        let db = try await TestDatabases.shared.migrated()
        let old = try Keyring.ephemeral()
        let codes = try await TestApp.with(now: now, database: db, keyring: old) { _, client in
            let (_, token) = try await Self.enrolled(client, clock: clock)
            let r = try await client.call(.post, "/auth/mfa/generate-recovery-codes", json: .object([:]), bearer: token)
            return try #require(Self.array(r.object["codes"])).compactMap(\.stringValue)
        }
        let oldEntry = "\(old.current.id):" + Base64.encode(old.current.material)
        let rotated = try Keyring(parsing: "rotated:" + Base64.encode(try SecureRandom.bytes(32)) + "," + oldEntry)
        try await TestApp.with(now: now, database: db, keyring: rotated) { _, client in
            let challenge = try #require(try await client.login("ann@example.com").accessToken)
            let passed = try await client.call(.post, "/auth/mfa/verify-recovery-code", json: .object(["code": .string(codes[0])]), bearer: challenge)
            #expect(passed.status == .ok)
        }
    }

    /// One step later, a login passed with TOTP and `trustDevice`: the trust token and the full access token.
    static func trustedLogin(_ client: some TestClientProtocol, totp: App, clock: Locked<Date>) async throws -> (String, String) {
        clock.withLock { $0 += 30 }
        let challenge = try #require(try await client.login("ann@example.com").accessToken)
        let passed = try await client.call(
            .post, "/auth/mfa/verify",
            json: .object(["method": .string("totp"), "code": .string(totp.code(at: clock.value)), "trustDevice": .bool(true)]), bearer: challenge)
        return (try #require(passed.object["trustToken"]?.stringValue), try #require(passed.accessToken))
    }
}

extension MFATests {
    /// A tenant that requires MFA (issue 18 item 6): its users reach only the MFA set-up (and
    /// who they are, sign-out) until MFA is on, and cannot turn it off again.
    @Test func aTenantThatRequiresMFAHoldsUsersAtTheSetUp() async throws {
        let (clock, now) = Self.clocked()
        try await TestApp.with(now: now) { app, client in
            let tenant = try await app.defaultTenant()
            _ = try await app.env.registry.updateSettings(id: tenant.id, ["mfaRequired": .bool(true)])
            app.env.tenants.forget(tenant.id)
            let signup = try await client.signup("ann@example.com")
            let token = try #require(signup.accessToken)
            let held = try await client.call(.get, "/auth/sessions", bearer: token)
            #expect(held.status == .forbidden && held.code == "MFA_SETUP_REQUIRED", "\(held.raw)")
            #expect(try await client.call(.get, "/auth/me", bearer: token).status == .ok)
            let setup = try await client.call(.post, "/auth/mfa/setup-totp", json: .object([:]), bearer: token)
            let authenticator = try App(base32: try #require(setup.object["secret"]?.stringValue, "\(setup.raw)"))
            _ = try await client.call(.post, "/auth/mfa/verify-totp-setup", json: .object(["code": .string(authenticator.code(at: clock.value))]), bearer: token)
            #expect(try await client.call(.post, "/auth/mfa/toggle", json: .object(["enabled": .bool(true)]), bearer: token).status == .ok)
            // A token serves the user as of its first use: the next one (a refresh) passes.
            let refresh = try #require(signup.refreshToken)
            let fresh = try #require(try await client.refresh(refresh).accessToken)
            let passed = try await client.call(.get, "/auth/sessions", bearer: fresh)
            #expect(passed.status == .ok, "\(passed.raw)")
            let off = try await client.call(.post, "/auth/mfa/toggle", json: .object(["enabled": .bool(false)]), bearer: fresh)
            #expect(off.code == "MFA_TOGGLING_NOT_ALLOWED")
        }
    }
}

extension MFATests {
    /// The isolation matrix for trusted devices (issue 18): another tenant's user cannot revoke
    /// one by its id; the device stays trusted.
    @Test func anotherTenantsUserCannotRevokeATrustedDevice() async throws {
        let (clock, now) = Self.clocked()
        try await TestApp.with(now: now) { app, client in
            let (totp, _) = try await Self.enrolled(client, clock: clock)
            let (trust, full) = try await Self.trustedLogin(client, totp: totp, clock: clock)
            let id = try #require(Self.array(try await client.call(.get, "/auth/mfa/trusted-devices", bearer: full).body)?.first?["id"]?.stringValue)
            let other = try await app.tenant("other")
            let mallory = try #require(try await client.signup("mallory@example.com", tenant: other.slug).accessToken)
            #expect(try await client.call(.delete, "/auth/mfa/trusted-devices/\(id)", bearer: mallory).status == .notFound)
            // Still trusted: a login with it skips the second factor.
            #expect(try await client.login("ann@example.com", headers: ["x-device-trust": trust]).object["isRequiresMfa"] == .bool(false))
        }
    }
}
