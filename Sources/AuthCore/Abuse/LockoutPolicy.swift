/// Temporary account lockout (security requirement 7): after `threshold` consecutive wrong
/// passwords the account is locked for `base`, doubling with each lockout up to `maximum`. A
/// locked account's login answers exactly as a wrong password (DESIGN.md §8); the owner is told
/// through `auth.account_locked`. A successful login resets the count.
public struct LockoutPolicy: Sendable, Equatable {
    /// 0 turns lockout off (the per-account rate limit still caps password checks).
    public var threshold = 5
    public var base: Duration = .seconds(60)
    public var maximum: Duration = .seconds(24 * 3600)

    public init() {}
}
