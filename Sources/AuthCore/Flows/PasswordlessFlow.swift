#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Passwordless login (API.md): `POST /auth/passwordless/send {identifier, channel}` sends a code
/// to an existing, active account's address — the same answer otherwise — inside
/// `auth.passwordless.code.requested`; `POST /auth/login {providerName:"passwordless",
/// credentials:{identifier, code}}` logs in with it. Sending is limited per address and per
/// identifier; guesses count against the same per-account cap as passwords, and against the
/// code's own attempts. A code proves the inbox or phone: the address is marked verified.
public struct PasswordlessFlow: Sendable {
    let env: AuthEnvironment

    public static let sentMessage = "If an account exists for that address, a sign-in code has been sent"

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// `POST /auth/passwordless/send`.
    public func send(identifier: String, channel: String, tenantName: String?, request: AuthRequest) async throws {
        do {
            guard env.settings.passwordlessEnabled else { throw AuthError(.passwordlessDisabled) }
            let (address, channel) = try Self.address(identifier, channel: channel)
            let tenant = try await LoginFlow.unlessUnknown { try await env.tenants.resolve(tenantName) }
            try await env.rateLimiter.check(
                .passwordlessSend, ip: request.ipAddress, identifier: address,
                scope: RateLimiter.scope(tenant, named: tenantName))
            let floor = ResponseFloor()
            guard let tenant else {
                try await env.placeholderTransaction(tenant: nil, statements: 3)
                return await floor.wait()
            }
            let user = try await env.activeUser(address, channel: channel, tenant: tenant)
            guard let user else {
                try await env.placeholderTransaction(tenant: tenant, statements: 2)
                return await floor.wait()
            }
            try await env.db.inTenant(tenant) { tx in
                try await OneTimeCodes(env: env).issue(
                    user: user.id, tenant: tenant, purpose: .passwordless, channel: channel, recipient: address, tx: tx
                ) { expiresAt in
                    AuthEvent(
                        .passwordlessCodeRequested, tenantID: tenant.id, subject: AuthEvent.user(user.id),
                        data: VerificationFlow.delivery(.passwordless, channel, to: address, expiresAt: expiresAt)
                            .merging(["ip": request.ipAddress.map(JSONValue.string) ?? .null]) { a, _ in a })
                }
            }
            await floor.wait()
        } catch {
            throw env.mapError(error, context: "passwordless")
        }
    }

    /// The login: 401 `INVALID_CREDENTIALS` for a wrong, used or expired code and for an unknown
    /// account alike (the wrong guess is counted and recorded as `auth.login_failed`).
    func login(_ input: LoginInput, tenantName: String?, request: AuthRequest) async throws -> AuthResponse {
        guard env.settings.passwordlessEnabled else { throw AuthError(.passwordlessDisabled) }
        guard let identifier = input.identifier, !identifier.isEmpty, let code = input.code, !code.isEmpty else {
            throw AuthError(.missingRequiredFields, message: "credentials need identifier and code")
        }
        let (address, channel) = try Self.address(identifier, channel: identifier.hasPrefix("+") ? "sms" : "email")
        let tenant = try await LoginFlow.unlessUnknown { try await env.tenants.resolve(tenantName) }
        try await env.rateLimiter.check(
            .login, ip: request.ipAddress, identifier: address,
            scope: RateLimiter.scope(tenant, named: tenantName))
        let floor = ResponseFloor()
        var found: User?
        if let tenant { found = try await env.activeUser(address, channel: channel, tenant: tenant) }
        try await env.rateLimiter.checkAccount(found?.id, scope: RateLimiter.scope(tenant, named: tenantName))
        guard let tenant, let user = found else {
            // The statements a wrong code costs a real account (lock, count, event), then the same answer.
            try await env.placeholderTransaction(tenant: tenant, statements: 3)
            await floor.wait()
            throw AuthError.invalidCredentials
        }
        let result = try await LogMetadata.withTenant(tenant.slug) {
            try await env.db.inTenant(tenant) { tx -> LoginSession? in
                let outcome = try await OneTimeCodes(env: env).verify(
                    code, user: user.id, tenant: tenant, purpose: .passwordless, channel: channel, recipient: address, tx: tx)
                guard outcome == .valid else {
                    try await env.outbox.append(
                        AuthEvent(
                            .loginFailed, tenantID: tenant.id, subject: AuthEvent.user(user.id),
                            data: [
                                "reasonCode": .string("INVALID_CREDENTIALS"), "provider": .string("passwordless"),
                                "ip": request.ipAddress.map(JSONValue.string) ?? .null, "knownAccount": .bool(true),
                            ]),
                        in: tx)
                    return nil
                }
                guard let locked = try await env.users.find(id: user.id, forUpdate: true, on: tx), locked.isActive else {
                    throw AuthError.accountInactive
                }
                let newlyProven = channel == .email ? locked.emailVerifiedAt == nil : locked.phoneVerifiedAt == nil
                let current = newlyProven
                    ? try await UserLifecycle(env: env).update(
                        userID: user.id, channel == .email ? UserChanges(emailVerified: true) : UserChanges(phoneVerified: true),
                        tenant: tenant, tx: tx, logger: request.logger)
                    : locked
                return try await LoginFlow.openSession(
                    env: env, user: current, stored: nil, tenant: tenant, provider: "passwordless", request: request, tx: tx,
                    firstFactor: channel == .email ? .email : .sms)
            }
        }
        guard let result else {
            await floor.wait()
            throw AuthError.invalidCredentials
        }
        return try await result.response(env)
    }

    /// The normalised address for `channel` (`email` or `sms`).
    static func address(_ identifier: String, channel: String) throws -> (String, OneTimeCodeChannel) {
        switch channel {
        case "email":
            guard let email = Identifier.email(identifier) else { throw AuthError(.invalidEmailFormat) }
            return (email, .email)
        case "sms":
            guard let phone = Identifier.phone(identifier) else { throw AuthError(.invalidPhoneFormat) }
            return (phone, .sms)
        default:
            throw AuthError.invalidInput("channel", "must be email or sms")
        }
    }
}
