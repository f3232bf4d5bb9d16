import AuthCrypto

/// How one-time codes are made and how long they live (security requirement 21: ≥ 20 bits,
/// ≤ 10 minutes, single use, attempts capped).
public struct OneTimeCodeSettings: Sendable, Equatable {
    public var length = 6
    public var alphabet: OneTimeCodeAlphabet = .numeric
    /// Lifetime of every code (verification, reset, passwordless, MFA).
    public var ttl: Duration = .seconds(600)
    /// Wrong guesses a code survives; the next wrong one deletes it.
    public var maxAttempts = 5
    /// How long a reset token (handed out for a verified reset code) stays usable.
    public var resetTokenTTL: Duration = .seconds(1800)

    public init() {}
}
