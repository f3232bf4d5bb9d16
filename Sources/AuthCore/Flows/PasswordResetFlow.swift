#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// Forgot → code → reset token → reset (reference §6.5, behaviours 31–34; requirements 3, 5, 18,
/// OWASP's Forgot Password cheat sheet):
/// - `forgot-password` answers the same, no sooner than `ResponseFloor` allows, whether or not the tenant
///   or account exists; for an account it replaces any earlier code and reset tokens and sends
///   a code inside `auth.password_reset_requested`.
/// - `verify-forgot-password-otp` exchanges the code for a reset token (256 random bits, stored
///   as SHA-256, 30 min by default); an unknown account answers as a wrong code (`OTP_INVALID`:
///   nest-auth's `PASSWORD_RESET_INVALID_REQUEST` there would reveal accounts).
/// - `reset-password` sets the password once per token — void when expired, used, replaced, or
///   older than the last password change — ends every session, forgets trusted devices, revokes
///   the account's API keys (a reset means the old password may be known) and does not log in.
public struct PasswordResetFlow: Sendable {
    let env: AuthEnvironment

    /// The account a request names: its normalised address and the channel codes go to.
    public struct Identity: Sendable {
        public var email: String?
        public var phone: String?
        public var tenantName: String?

        public init(email: String?, phone: String?, tenantName: String?) {
            self.email = email
            self.phone = phone
            self.tenantName = tenantName
        }
    }

    public static let forgotMessage = "If an account exists for that address, a password reset code has been sent"

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// `POST /auth/forgot-password`.
    public func forgot(_ identity: Identity, request: AuthRequest) async throws {
        do {
            let (address, channel, tenant) = try await resolve(identity, limitedAs: .forgotPassword, request: request)
            let floor = ResponseFloor()
            try await sendCode(address, channel: channel, tenant: tenant, request: request)
            await floor.wait()
        } catch {
            throw env.mapError(error, context: "forgot-password")
        }
    }

    /// The part of forgot-password that depends on whether the account exists.
    private func sendCode(_ address: String, channel: OneTimeCodeChannel, tenant: Tenant?, request: AuthRequest) async throws {
        // A missing tenant or account runs placeholder statements in place of the account's
        // lookup, token deletion, code and event (measured by `make bench`'s forgot rows).
        guard let tenant else { return try await env.placeholderTransaction(tenant: nil, statements: 4) }
        let user = try await env.activeUser(address, channel: channel, tenant: tenant)
        guard let user else { return try await env.placeholderTransaction(tenant: tenant, statements: 3) }
        try await env.db.inTenant(tenant) { tx in
            try await env.codes.deleteResetTokens(userID: user.id, on: tx)
            try await OneTimeCodes(env: env).issue(
                user: user.id, tenant: tenant, purpose: .passwordReset, channel: channel, recipient: address, tx: tx
            ) { expiresAt in
                AuthEvent(
                    .passwordResetRequested, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                    data: VerificationFlow.delivery(.passwordReset, channel, to: address, expiresAt: expiresAt)
                        .merging(["ip": request.ipAddress.map(JSONValue.string) ?? .null]) { a, _ in a })
            }
        }
    }

    /// `POST /auth/verify-forgot-password-otp`: the reset token, or 400 `OTP_INVALID` / `OTP_EXPIRED`.
    public func verifyCode(_ identity: Identity, code: String, request: AuthRequest) async throws -> String {
        do {
            let (address, channel, tenant) = try await resolve(identity, limitedAs: .verifyCode, request: request)
            let floor = ResponseFloor()
            var found: User?
            if let tenant { found = try await env.activeUser(address, channel: channel, tenant: tenant) }
            guard let tenant, let user = found else {
                // The statements a wrong code costs a real account (lock, count), then the same answer.
                try await env.placeholderTransaction(tenant: tenant, statements: tenant == nil ? 3 : 2)
                await floor.wait()
                throw AuthError(.otpInvalid)
            }
            let token = try PasswordResetToken.mint(tenantID: tenant.id)
            let outcome = try await env.db.inTenant(tenant) { tx -> OneTimeCodes.Outcome in
                let outcome = try await OneTimeCodes(env: env).verify(
                    code, user: user.id, tenant: tenant, purpose: .passwordReset, channel: channel, recipient: address, tx: tx)
                if outcome == .valid {
                    _ = try await env.codes.insertResetToken(userID: user.id, digest: token.digest, ttl: env.settings.codes.resetTokenTTL, on: tx)
                }
                return outcome
            }
            switch outcome {
            case .valid: return token.value
            case .invalid:
                await floor.wait()
                throw AuthError(.otpInvalid)
            case .expired: throw AuthError(.otpExpired)
            }
        } catch {
            throw env.mapError(error, context: "verify-forgot-password-otp")
        }
    }

    /// `POST /auth/reset-password`.
    public func reset(token text: String, newPassword: String, request: AuthRequest) async throws {
        do {
            guard let token = PasswordResetToken(parsing: text),
                  let tenant = try await LoginFlow.unlessUnknown({ try await env.tenants.resolve(id: token.tenantID) })
            else { throw AuthError(.passwordResetTokenInvalid) }
            guard !newPassword.isEmpty else { throw AuthError(.missingRequiredFields, message: "newPassword is required") }
            // Read without a lock to learn whose it is (the policy needs the account's words),
            // then hash with no transaction open; the transaction checks it again, locked.
            let owner = try await env.db.tenantStatements(tenant) { db -> User? in
                guard let found = try await env.codes.lockResetToken(digest: token.digest, on: db) else { return nil }
                return try await env.users.find(id: found.userID, on: db)
            }
            guard let owner else { throw AuthError(.passwordResetTokenInvalid) }
            try env.settings(for: tenant).passwordPolicy.check(newPassword, context: PasswordPolicy.contextWords(user: owner, tenant: tenant))
            let hash = try await env.hashPassword(newPassword)
            try await env.db.inTenant(tenant) { tx in
                guard let found = try await env.codes.lockResetToken(digest: token.digest, on: tx), found.userID == owner.id,
                      !found.superseded
                else { throw AuthError(.passwordResetTokenInvalid) }
                guard !found.expired else { throw AuthError(.passwordResetTokenExpired) }
                _ = try await env.credentials.setPassword(userID: owner.id, hash: hash, on: tx)
                try await env.codes.deleteResetTokens(userID: owner.id, on: tx)
                try await MFAStore().deleteTrustedDevices(userID: owner.id, on: tx)
                let keys = try await APIKeyStore().revokeAll(userID: owner.id, on: tx)
                if keys > 0 {
                    try await env.outbox.append(
                        AuthEvent(
                            .accessKeyDeactivated, tenantID: tenant.id, subject: AuthEvent.user(owner.id),
                            data: ["reason": .string("password_reset"), "count": .int(keys)]),
                        in: tx)
                }
                try await env.codes.delete(userID: owner.id, purpose: OneTimeCodePurpose.passwordReset.rawValue, on: tx)
                let ended = try await SessionOpener(env: env).revokeAll(userID: owner.id, reason: "password_reset", tenant: tenant, tx: tx)
                try await env.outbox.append(
                    AuthEvent(
                        .passwordReset, tenantID: tenant.id, actor: AuthEvent.user(owner.id), subject: AuthEvent.user(owner.id),
                        data: ["revokedSessions": .int(ended.count), "ip": request.ipAddress.map(JSONValue.string) ?? .null]),
                    in: tx)
            }
        } catch {
            throw env.mapError(error, context: "reset-password")
        }
    }

    /// The request's address and channel, and its tenant (nil when unknown), after the rate
    /// limits of `action` (the tenant as named when unknown: probing tenants is limited too).
    private func resolve(_ identity: Identity, limitedAs action: RateLimits.Action, request: AuthRequest) async throws
        -> (String, OneTimeCodeChannel, Tenant?)
    {
        let (address, channel) = try Self.address(identity)
        let tenant = try await LoginFlow.unlessUnknown { try await env.tenants.resolve(identity.tenantName) }
        try await env.rateLimiter.check(
            action, ip: request.ipAddress, identifier: address,
            scope: RateLimiter.scope(tenant, named: identity.tenantName))
        return (address, channel, tenant)
    }

    /// The normalised address and its channel: the phone when one is given, else the e-mail.
    static func address(_ identity: Identity) throws -> (String, OneTimeCodeChannel) {
        if let raw = identity.phone, !raw.isEmpty {
            guard let phone = Identifier.phone(raw) else { throw AuthError(.invalidPhoneFormat) }
            return (phone, .sms)
        }
        if let raw = identity.email, !raw.isEmpty {
            guard let email = Identifier.email(raw) else { throw AuthError(.invalidEmailFormat) }
            return (email, .email)
        }
        throw AuthError.emailOrPhoneRequired
    }
}
