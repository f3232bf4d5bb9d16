#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto
import PGKit

/// One-time codes, one mechanism for every purpose (verification, reset, passwordless, MFA):
/// drawn from the CSPRNG (or the `otp.generate` hook), stored only as an HMAC bound to tenant,
/// user, purpose, channel and recipient, one live code per user and purpose (a new one replaces
/// the old), expiring by the database's clock, single use, wrong guesses capped. The code reaches
/// the application only sealed inside the event written in the same transaction
/// (`AuthEvent.secret`): never in a response, a log line or a row in clear.
struct OneTimeCodes: Sendable {
    let env: AuthEnvironment

    enum Outcome: Sendable, Equatable {
        case valid
        case invalid
        case expired
    }

    /// Makes a code, stores its HMAC and writes `event(expiresAt)` carrying it, all in `tx`.
    func issue(
        user: UUID, tenant: Tenant, purpose: OneTimeCodePurpose, channel: OneTimeCodeChannel, recipient: String,
        tx: PGTransaction, event: (Date) -> AuthEvent
    ) async throws {
        let settings = env.settings.codes
        let code: String
        if let hook = env.hooks.otp.generate {
            code = try await hook(settings.length, settings.alphabet)
            guard (4...64).contains(code.count), !code.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw AuthError.internalError("otp.generate returned an unusable code (4–64 characters, no control characters)")
            }
        } else {
            code = try settings.alphabet.generate(length: settings.length)
        }
        let expiresAt = try await env.codes.replace(
            userID: user, purpose: purpose.rawValue, channel: channel.rawValue, recipient: recipient,
            codeHMAC: hmac(code, user: user, tenant: tenant, purpose: purpose.rawValue, channel: channel.rawValue, recipient: recipient),
            maxAttempts: settings.maxAttempts, ttl: settings.ttl, on: tx)
        var made = event(expiresAt)
        made.secret = AuthEvent.OneTimeSecret(code, expiresAt: expiresAt)
        try await env.outbox.append(made, in: tx)
    }

    /// Checks `code` against the user's live code for `purpose`, in `tx` (which must commit even
    /// when the answer is `.invalid`: the wrong guess is counted). A code sent to another channel
    /// or recipient than `channel`/`recipient` (when given) is invalid: an address changed since
    /// the code was sent no longer verifies with it. The code is deleted when used or expired.
    func verify(
        _ code: String, user: UUID, tenant: Tenant, purpose: OneTimeCodePurpose, channel: OneTimeCodeChannel? = nil,
        recipient: String? = nil, tx: PGTransaction
    ) async throws -> Outcome {
        let code = code.trimmingCharacters(in: .whitespaces)
        guard let stored = try await env.codes.lock(userID: user, purpose: purpose.rawValue, on: tx) else { return .invalid }
        let expected = hmac(code, user: user, tenant: tenant, purpose: purpose.rawValue, channel: stored.channel, recipient: stored.recipient)
        let bound = (channel == nil || channel?.rawValue == stored.channel) && (recipient == nil || recipient == stored.recipient)
        let matches = !code.isEmpty && code.count <= 64 && ConstantTime.equals(expected, stored.codeHMAC) && bound
        // "Expired" only to whoever holds the right code: a guess against a stale code must not
        // tell that an account asked for one (a public route would then reveal accounts).
        if stored.expired {
            try await env.codes.delete(userID: user, purpose: purpose.rawValue, on: tx)
            return matches ? .expired : .invalid
        }
        guard matches else {
            try await env.codes.failedAttempt(userID: user, purpose: purpose.rawValue, on: tx)
            return .invalid
        }
        try await env.codes.delete(userID: user, purpose: purpose.rawValue, on: tx)
        return .valid
    }

    private func hmac(_ code: String, user: UUID, tenant: Tenant, purpose: String, channel: String, recipient: String) -> String {
        env.codeDigest.hex([tenant.id.uuidString.lowercased(), user.uuidString.lowercased(), purpose, channel, recipient, code])
    }
}
