/// Which requests are rate limited and how much (security requirement 6): per client address
/// and per identifier (the e-mail or phone a request names, whether or not an account has it,
/// so a limit reveals nothing). Limits are kept in PostgreSQL, shared by every authd process.
public struct RateLimits: Sendable, Equatable {
    /// The rate-limited actions; each has its own buckets.
    public enum Action: String, Sendable, CaseIterable {
        case login
        case signup
        case forgotPassword = "forgot_password"
        case verifyCode = "verify_code"
        case passwordlessSend = "passwordless_send"
        /// Sending a verification or MFA code to the caller's own address.
        case sendCode = "send_code"
    }

    /// Off only for benchmarks of the flows themselves (`AUTH_RATE_LIMITS=off`, never in production).
    public var enabled = true
    public var perIP: [Action: RateLimitRule] = [
        .login: RateLimitRule(60, per: .seconds(60)),
        .signup: RateLimitRule(20, per: .seconds(600)),
        .forgotPassword: RateLimitRule(20, per: .seconds(600)),
        .verifyCode: RateLimitRule(60, per: .seconds(600)),
        .passwordlessSend: RateLimitRule(20, per: .seconds(600)),
        .sendCode: RateLimitRule(20, per: .seconds(600)),
    ]
    public var perIdentifier: [Action: RateLimitRule] = [
        .signup: RateLimitRule(5, per: .seconds(600)),
        .forgotPassword: RateLimitRule(5, per: .seconds(600)),
        .verifyCode: RateLimitRule(10, per: .seconds(600)),
        .passwordlessSend: RateLimitRule(5, per: .seconds(600)),
        .sendCode: RateLimitRule(5, per: .seconds(600)),
    ]
    /// Password checks per account per hour, whatever the number of addresses or processes
    /// (ASVS 4.0.3 2.2.1, NIST SP 800-63B: at most 100). Login's per-identifier bucket is made
    /// from it: a tenth at once (so an attack's first burst costs few hashes), the rest spread
    /// over the hour — at most this many in any hour.
    public var passwordChecksPerAccountPerHour = 100

    public init() {}

    /// The per-identifier rule of `action`.
    public func identifierRule(_ action: Action) -> RateLimitRule? {
        guard action == .login else { return perIdentifier[action] }
        let cap = max(2, passwordChecksPerAccountPerHour)
        let burst = max(1, cap / 10)
        return RateLimitRule(cap - burst, per: .seconds(3600), burst: burst)
    }
}
