import AuthCore
import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import TestSupport
import Testing

/// Reference behaviours 31–35 and security requirements 3, 5, 15, 18 and 25 over HTTP: change,
/// forgot, code, reset.
@Suite struct PasswordFlowTests {
    static let new = "a brand new passphrase"

    @Test func changingThePasswordEndsEverySessionAndReturnsNewTokens() async throws {
        try await TestApp.with { app, client in
            let first = try #require(try await client.signup("ann@example.com").accessToken)
            let second = try #require(try await client.login("ann@example.com").accessToken)
            func change(_ current: String, _ new: String) async throws -> Reply {
                try await client.call(
                    .post, "/auth/change-password", json: .object(["currentPassword": .string(current), "newPassword": .string(new)]),
                    bearer: second)
            }
            #expect(try await change("not my password", Self.new).code == "CURRENT_PASSWORD_INCORRECT")
            #expect(try await change("correct horse battery", "correct horse battery").code == "NEW_PASSWORD_SAME_AS_CURRENT")
            #expect(try await change("correct horse battery", "password123").code == "PASSWORD_TOO_COMMON")
            let changed = try await change("correct horse battery", Self.new)
            #expect(changed.status == .ok && changed.object["message"] == .string("Password changed successfully"))
            let fresh = try #require(changed.accessToken)
            for old in [first, second] {
                #expect(try await client.call(.get, "/auth/me", bearer: old).code == "SESSION_NOT_FOUND")
            }
            #expect(try await client.call(.get, "/auth/me", bearer: fresh).status == .ok)
            #expect(try await client.login("ann@example.com").code == "INVALID_CREDENTIALS")
            #expect(try await client.login("ann@example.com", Self.new).status == .ok)
            let events = try await app.events(try await app.defaultTenant(), type: "auth.password_changed")
            #expect(events.count == 1 && events[0].data["revokedSessions"] == .int(2))
            #expect(!events[0].data.description.contains(Self.new))
        }
    }

    /// Behaviour 31 and requirement 5: the same answer for a known account, an unknown one and
    /// an unknown tenant; only the known account gets a code.
    @Test func forgotPasswordAnswersTheSameForEveryone() async throws {
        try await TestApp.with { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            var answers: [String] = []
            for body: JSONObject in [
                ["email": .string("ann@example.com")], ["email": .string("nobody@example.com")],
                ["email": .string("ann@example.com"), "tenantId": .string("no-such-tenant")],
            ] {
                let r = try await client.call(.post, "/auth/forgot-password", json: .object(body))
                #expect(r.status == .ok)
                answers.append(r.raw)
            }
            #expect(Set(answers).count == 1)
            #expect(try await app.events(tenant, type: "auth.password_reset_requested").count == 1)
        }
    }

    /// Behaviours 32–34 and requirement 18: code → token (once) → reset (once): every session
    /// ends, no login follows, the old password is dead, a lockout is lifted.
    @Test func aResetTokenWorksOnceEndsEverySessionAndDoesNotLogIn() async throws {
        try await TestApp.with(configure: { $0.lockout.threshold = 2 }) { app, client in
            let session = try #require(try await client.signup("ann@example.com").accessToken)
            let tenant = try await app.defaultTenant()
            for _ in 0..<2 { _ = try await client.login("ann@example.com", "not the password") }  // locked now
            _ = try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")]))
            let (code, data) = try await app.code(tenant, type: "auth.password_reset_requested")
            #expect(data["channel"] == .string("email") && data["recipient"] == .string("ann@example.com"))
            let verify: JSONValue = .object(["email": .string("ann@example.com"), "code": .string(code)])
            let exchanged = try await client.call(.post, "/auth/verify-forgot-password-otp", json: verify)
            let token = try #require(exchanged.object["resetToken"]?.stringValue)
            #expect(token.hasPrefix("prt1."))
            #expect(try await client.call(.post, "/auth/verify-forgot-password-otp", json: verify).code == "OTP_INVALID")

            let reset: JSONValue = .object(["token": .string(token), "newPassword": .string(Self.new)])
            let done = try await client.call(.post, "/auth/reset-password", json: reset)
            #expect(done.status == .ok && done.accessToken == nil && done.refreshToken == nil)
            #expect(try await client.call(.post, "/auth/reset-password", json: reset).code == "PASSWORD_RESET_TOKEN_INVALID")
            #expect(try await client.call(.get, "/auth/me", bearer: session).code == "SESSION_NOT_FOUND")
            #expect(try await client.login("ann@example.com").code == "INVALID_CREDENTIALS")
            #expect(try await client.login("ann@example.com", Self.new).status == .ok)
            let events = try await app.events(tenant, type: "auth.password_reset")
            #expect(events.count == 1 && !events[0].data.description.contains(Self.new))
        }
    }

    /// Requirement 18: a token is void once expired, once another reset is asked for, and once the
    /// password changed after it was made; a code past its time is `OTP_EXPIRED`; an unknown
    /// account answers as a wrong code.
    @Test func resetTokensAndCodesGoStale() async throws {
        try await TestApp.with(configure: { $0.rateLimits.perIdentifier[.forgotPassword] = RateLimitRule(100, per: .seconds(600)) }) { app, client in
            _ = try await client.signup("ann@example.com")
            let tenant = try await app.defaultTenant()
            func token() async throws -> String {
                #expect(try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")])).status == .ok)
                let code = try await app.code(tenant, type: "auth.password_reset_requested").code
                let r = try await client.call(
                    .post, "/auth/verify-forgot-password-otp", json: .object(["email": .string("ann@example.com"), "code": .string(code)]))
                return try #require(r.object["resetToken"]?.stringValue)
            }
            func reset(_ token: String, _ password: String = Self.new) async throws -> Reply {
                try await client.call(.post, "/auth/reset-password", json: .object(["token": .string(token), "newPassword": .string(password)]))
            }
            // Replaced by a newer request.
            let replaced = try await token()
            _ = try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")]))
            #expect(try await reset(replaced).code == "PASSWORD_RESET_TOKEN_INVALID")
            // Expired.
            let expiring = try await token()
            _ = try await app.scalar(
                tenant, "WITH u AS (UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            #expect(try await reset(expiring).code == "PASSWORD_RESET_TOKEN_EXPIRED")
            // Made before a password change.
            let superseded = try await token()
            _ = try await app.scalar(
                tenant, "WITH u AS (UPDATE credentials SET password_changed_at = now() + interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            #expect(try await reset(superseded).code == "PASSWORD_RESET_TOKEN_INVALID")
            // A forged or garbled token, and a weak password, change nothing.
            #expect(try await reset("prt1.00000000000000000000000000000000.AAAA").code == "PASSWORD_RESET_TOKEN_INVALID")
            #expect(try await reset(try await token(), "ann@example.com-1").code == "PASSWORD_CONTAINS_IDENTIFIER")
            // An expired code, and an account that does not exist.
            _ = try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")]))
            let code = try await app.code(tenant, type: "auth.password_reset_requested").code
            _ = try await app.scalar(
                tenant, "WITH u AS (UPDATE one_time_codes SET expires_at = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            let expired = try await client.call(
                .post, "/auth/verify-forgot-password-otp", json: .object(["email": .string("ann@example.com"), "code": .string(code)]))
            #expect(expired.code == "OTP_EXPIRED")
            // A guess against a stale code learns nothing (an unknown account answers the same).
            _ = try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")]))
            _ = try await app.scalar(
                tenant, "WITH u AS (UPDATE one_time_codes SET expires_at = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            let guess = try await client.call(
                .post, "/auth/verify-forgot-password-otp", json: .object(["email": .string("ann@example.com"), "code": .string("000000")]))
            #expect(guess.code == "OTP_INVALID")
            let unknown = try await client.call(
                .post, "/auth/verify-forgot-password-otp", json: .object(["email": .string("nobody@example.com"), "code": .string(code)]))
            #expect(unknown.code == "OTP_INVALID")
            #expect(try await client.login("ann@example.com").status == .ok)
        }
    }

    /// Requirements 10, 18, 20, 25: after codes, reset tokens and sessions were made, a dump of
    /// the database holds none of them in clear.
    @Test func aDatabaseDumpHoldsNoCodeOrTokenInClear() async throws {
        let db = try await TestDatabases.shared.migrated()
        let secrets = try await TestApp.with(database: db) { app, client in
            let signup = try await client.signup("ann@example.com")
            let token = try #require(signup.accessToken)
            let tenant = try await app.defaultTenant()
            var secrets = [try #require(signup.refreshToken), "correct horse battery"]
            _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            secrets.append(try await app.code(tenant, type: "auth.email.verification.requested").code)
            _ = try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")]))
            let code = try await app.code(tenant, type: "auth.password_reset_requested").code
            let r = try await client.call(
                .post, "/auth/verify-forgot-password-otp", json: .object(["email": .string("ann@example.com"), "code": .string(code)]))
            secrets.append(try #require(r.object["resetToken"]?.stringValue))
            secrets.append(String(try #require(r.object["resetToken"]?.stringValue).split(separator: ".").last!))
            _ = try await client.call(.post, "/auth/forgot-password", json: .object(["email": .string("ann@example.com")]))
            secrets.append(try await app.code(tenant, type: "auth.password_reset_requested").code)
            return secrets
        }
        let dump = try db.dump()
        #expect(dump.contains("ann@example.com"))  // the dump is real
        for secret in secrets { #expect(!dump.contains(secret), "a secret in clear in the dump") }
    }

    /// Wrong current passwords count toward the lockout like wrong logins (a stolen access token
    /// must not guess freely), and login by e-mail and by phone share one account cap.
    @Test func ownPasswordChecksShareTheLoginLimits() async throws {
        try await TestApp.with(configure: { $0.lockout.threshold = 3 }) { _, client in
            let token = try #require(try await client.call(
                .post, "/auth/signup",
                json: .object(["email": .string("ann@example.com"), "phone": .string("+15550001111"), "password": .string("correct horse battery")])).accessToken)
            for _ in 0..<3 {
                let r = try await client.call(
                    .post, "/auth/change-password", json: .object(["currentPassword": .string("a wrong guess"), "newPassword": .string(Self.new)]), bearer: token)
                #expect(r.code == "CURRENT_PASSWORD_INCORRECT")
            }
            #expect(try await client.login("ann@example.com").code == "INVALID_CREDENTIALS")  // locked
        }
        try await TestApp.with(configure: { $0.rateLimits.passwordChecksPerAccountPerHour = 20; $0.lockout.threshold = 0 }) { _, client in
            _ = try await client.call(
                .post, "/auth/signup",
                json: .object(["email": .string("ann@example.com"), "phone": .string("+15550001111"), "password": .string("correct horse battery")]))
            for _ in 0..<2 { #expect(try await client.login("ann@example.com", "a wrong guess").code == "INVALID_CREDENTIALS") }
            let byPhone = try await client.call(
                .post, "/auth/login",
                json: .object(["providerName": .string("phone"), "credentials": .object(["phone": .string("+15550001111"), "password": .string("a wrong guess")])]))
            #expect(byPhone.code == "RATE_LIMITED")
        }
    }
}
