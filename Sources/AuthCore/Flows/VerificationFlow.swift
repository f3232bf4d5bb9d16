#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `send-email-verification` / `verify-email` and their phone twins (reference §6.6, behaviour
/// 36): a code to the account's own address, delivered only inside
/// `auth.email.verification.requested` (or `auth.phone.…`); verifying it stamps the address as
/// verified through the user lifecycle (hooks, `auth.user.updated`) and records
/// `auth.email.verified`. Sending is limited per address and per account, guessing per account.
public struct VerificationFlow: Sendable {
    let env: AuthEnvironment

    /// Which address.
    public enum Target: Sendable {
        case email
        case phone

        var purpose: OneTimeCodePurpose { self == .email ? .emailVerification : .phoneVerification }
        var channel: OneTimeCodeChannel { self == .email ? .email : .sms }
        var requested: AuthEvent.Name { self == .email ? .emailVerificationRequested : .phoneVerificationRequested }
        var verified: AuthEvent.Name { self == .email ? .emailVerified : .phoneVerified }
        var alreadyVerified: AuthError { AuthError(self == .email ? .emailAlreadyVerified : .phoneAlreadyVerified) }
        var missing: AuthError { AuthError(self == .email ? .noEmailAddress : .noPhoneNumber) }

        func address(of user: User) -> (value: String, verified: Bool)? {
            switch self {
            case .email: user.email.map { ($0, user.emailVerifiedAt != nil) }
            case .phone: user.phone.map { ($0, user.phoneVerifiedAt != nil) }
            }
        }
    }

    public init(env: AuthEnvironment) {
        self.env = env
    }

    /// Sends a code to the caller's address (400 when there is none or it is verified already).
    public func send(_ target: Target, principal: Principal, request: AuthRequest) async throws {
        do {
            try await env.rateLimiter.check(
                .sendCode, ip: request.ipAddress, identifier: principal.user.id.uuidString, scope: principal.tenant.id.uuidString)
            let tenant = principal.tenant
            try await env.db.inTenant(tenant) { tx in
                guard let user = try await env.users.find(id: principal.user.id, forUpdate: true, on: tx) else { throw AuthError.userNotFound }
                guard let address = target.address(of: user) else { throw target.missing }
                guard !address.verified else { throw target.alreadyVerified }
                try await OneTimeCodes(env: env).issue(
                    user: user.id, tenant: tenant, purpose: target.purpose, channel: target.channel, recipient: address.value, tx: tx
                ) { expiresAt in
                    AuthEvent(
                        target.requested, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                        data: Self.delivery(target.purpose, target.channel, to: address.value, expiresAt: expiresAt))
                }
            }
        } catch {
            throw env.mapError(error, context: "verification")
        }
    }

    /// Checks the code: a wrong one is 400 `VERIFICATION_CODE_INVALID` (and counted), a stale one
    /// `VERIFICATION_CODE_EXPIRED`; the right one marks the address verified.
    public func verify(_ target: Target, code: String, principal: Principal, request: AuthRequest) async throws {
        do {
            try await env.rateLimiter.check(
                .verifyCode, ip: request.ipAddress, identifier: principal.user.id.uuidString, scope: principal.tenant.id.uuidString)
            let tenant = principal.tenant
            let outcome = try await env.db.inTenant(tenant) { tx -> OneTimeCodes.Outcome in
                guard let user = try await env.users.find(id: principal.user.id, forUpdate: true, on: tx) else { throw AuthError.userNotFound }
                guard let address = target.address(of: user) else { throw target.missing }
                guard !address.verified else { throw target.alreadyVerified }
                let outcome = try await OneTimeCodes(env: env).verify(
                    code, user: user.id, tenant: tenant, purpose: target.purpose, channel: target.channel, recipient: address.value, tx: tx)
                guard outcome == .valid else { return outcome }
                let changes = target == .email ? UserChanges(emailVerified: true) : UserChanges(phoneVerified: true)
                _ = try await UserLifecycle(env: env).update(userID: user.id, changes, tenant: tenant, tx: tx, logger: request.logger)
                try await env.outbox.append(
                    AuthEvent(
                        target.verified, tenantID: tenant.id, actor: AuthEvent.user(user.id), subject: AuthEvent.user(user.id),
                        data: [target == .email ? "email" : "phone": .string(address.value)]),
                    in: tx)
                return .valid
            }
            switch outcome {
            case .valid: return
            case .invalid: throw AuthError(.verificationCodeInvalid)
            case .expired: throw AuthError(.verificationCodeExpired)
            }
        } catch {
            throw env.mapError(error, context: "verification")
        }
    }

    /// What a code's event says about its delivery (never the code: that rides sealed).
    static func delivery(_ purpose: OneTimeCodePurpose, _ channel: OneTimeCodeChannel, to recipient: String, expiresAt: Date) -> JSONObject {
        [
            "purpose": .string(purpose.rawValue), "channel": .string(channel.rawValue), "recipient": .string(recipient),
            "expiresAt": .string(ISO8601.format(expiresAt)),
        ]
    }
}
