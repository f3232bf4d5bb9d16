import AuthCore
import AuthCrypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import HTTPTypes
import TestSupport
import Testing

/// Reference behaviour 36 and security requirement 21 (codes ≥ 20 bits, ≤ 10 min, single use,
/// attempts capped, bound to their purpose and address), over HTTP.
@Suite struct VerificationTests {
    @Test func aVerificationCodeTravelsOnlyInItsEventAndVerifiesOnce() async throws {
        try await TestApp.with { app, client in
            let signup = try await client.signup("ann@example.com")
            let token = try #require(signup.accessToken)
            let tenant = try await app.defaultTenant()
            let sent = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            #expect(sent.status == .ok && sent.object["message"] == .string("Verification code sent"))
            let (code, data) = try await app.code(tenant, type: "auth.email.verification.requested")
            #expect(code.count == 6 && code.allSatisfy(\.isNumber))
            #expect(!sent.raw.contains(code))
            #expect(data["recipient"] == .string("ann@example.com") && data["purpose"] == .string("email_verification"))
            // Expires within 10 minutes (by the database's clock).
            let ttl = try await app.scalar(tenant, "SELECT extract(epoch FROM expires_at - created_at)::int8 FROM one_time_codes")
            #expect(ttl == 600)

            let wrong = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(Self.other(code))]), bearer: token)
            #expect(wrong.status == .badRequest && wrong.code == "VERIFICATION_CODE_INVALID")
            let ok = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(code)]), bearer: token)
            #expect(ok.status == .ok)
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users WHERE email_verified_at IS NOT NULL") == 1)
            #expect(try await app.events(tenant, type: "auth.email.verified").count == 1)
            #expect(try await app.events(tenant, type: "auth.user.updated").count == 1)
            // Single use, and nothing left to verify.
            let again = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(code)]), bearer: token)
            #expect(again.code == "EMAIL_ALREADY_VERIFIED")
            #expect(try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token).code == "EMAIL_ALREADY_VERIFIED")
        }
    }

    @Test func aNewCodeReplacesTheOldAndWrongGuessesAreCapped() async throws {
        try await TestApp.with(configure: { $0.codes.maxAttempts = 3 }) { app, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let tenant = try await app.defaultTenant()
            _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            let first = try await app.code(tenant, type: "auth.email.verification.requested").code
            _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            let second = try await app.code(tenant, type: "auth.email.verification.requested").code
            if first != second {
                let stale = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(first)]), bearer: token)
                #expect(stale.code == "VERIFICATION_CODE_INVALID")
            }
            // Three wrong guesses in all (the stale one counted when it differed): then even the right code fails.
            for _ in 0..<(first != second ? 2 : 3) {
                let r = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(Self.other(second))]), bearer: token)
                #expect(r.code == "VERIFICATION_CODE_INVALID")
            }
            let late = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(second)]), bearer: token)
            #expect(late.code == "VERIFICATION_CODE_INVALID")
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM users WHERE email_verified_at IS NULL") == 1)
        }
    }

    @Test func anExpiredCodeIsExpiredAndGone() async throws {
        try await TestApp.with { app, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let tenant = try await app.defaultTenant()
            _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            let code = try await app.code(tenant, type: "auth.email.verification.requested").code
            _ = try await app.scalar(
                tenant, "WITH u AS (UPDATE one_time_codes SET expires_at = now() - interval '1 second' RETURNING 1) SELECT count(*)::int8 FROM u")
            let r = try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(code)]), bearer: token)
            #expect(r.status == .badRequest && r.code == "VERIFICATION_CODE_EXPIRED")
            #expect(try await app.scalar(tenant, "SELECT count(*)::int8 FROM one_time_codes") == 0)
        }
    }

    /// A code is bound to its purpose and address: an e-mail code does not verify the phone, and
    /// once the address changes the code sent to the old one is void.
    @Test func aCodeIsBoundToItsPurposeAndAddress() async throws {
        try await TestApp.with { app, client in
            let r = try await client.call(
                .post, "/auth/signup",
                json: .object(["email": .string("ann@example.com"), "phone": .string("+15551234567"), "password": .string("correct horse battery")]))
            let token = try #require(r.accessToken)
            let tenant = try await app.defaultTenant()
            _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            let code = try await app.code(tenant, type: "auth.email.verification.requested").code
            #expect(try await client.call(.post, "/auth/verify-phone", json: .object(["code": .string(code)]), bearer: token).code == "VERIFICATION_CODE_INVALID")
            let idText = try #require(r.object["user"]?["id"]?.stringValue)
            let user = try #require(UUID(uuidString: idText))
            try await app.env.db.inTenant(tenant) { tx in
                _ = try await UserLifecycle(env: app.env).update(userID: user, UserChanges(email: "ann.new@example.com"), tenant: tenant, tx: tx)
            }
            #expect(try await client.call(.post, "/auth/verify-email", json: .object(["code": .string(code)]), bearer: token).code == "VERIFICATION_CODE_INVALID")
            // The phone flow works on its own code.
            _ = try await client.call(.post, "/auth/send-phone-verification", json: .object([:]), bearer: token)
            let sms = try await app.code(tenant, type: "auth.phone.verification.requested")
            #expect(sms.data["channel"] == .string("sms") && sms.data["recipient"] == .string("+15551234567"))
            #expect(try await client.call(.post, "/auth/verify-phone", json: .object(["code": .string(sms.code)]), bearer: token).status == .ok)
        }
    }

    @Test func anAccountWithoutAPhoneIsTold() async throws {
        try await TestApp.with { _, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            let r = try await client.call(.post, "/auth/send-phone-verification", json: .object([:]), bearer: token)
            #expect(r.status == .badRequest && r.code == "NO_PHONE_NUMBER")
        }
    }

    /// The `otp.generate` hook makes the codes; an alphanumeric alphabet is honoured by default.
    @Test func codesComeFromTheHookOrTheConfiguredAlphabet() async throws {
        var hooks = AuthHooks()
        hooks.otp.generate = { length, _ in String(repeating: "7", count: length + 2) }
        try await TestApp.with(hooks: hooks) { app, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            #expect(try await app.code(try await app.defaultTenant(), type: "auth.email.verification.requested").code == "77777777")
        }
        try await TestApp.with(configure: { $0.codes.alphabet = .alphanumeric; $0.codes.length = 8 }) { app, client in
            let token = try #require(try await client.signup("ann@example.com").accessToken)
            _ = try await client.call(.post, "/auth/send-email-verification", json: .object([:]), bearer: token)
            let code = try await app.code(try await app.defaultTenant(), type: "auth.email.verification.requested").code
            #expect(code.count == 8 && OneTimeCodeAlphabet.alphanumeric.accepts(code, length: 8))
        }
    }

    /// A code that differs from `code` in its last character.
    static func other(_ code: String) -> String {
        String(code.dropLast()) + (code.last == "1" ? "2" : "1")
    }
}
