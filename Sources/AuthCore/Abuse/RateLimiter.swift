#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCrypto

/// Applies `RateLimits` before a flow does any work: one statement takes from the request's
/// address bucket and its identifier bucket together; any refusal is 429 `RATE_LIMITED` with
/// `Retry-After`. Buckets are keyed by a keyed digest, never by the address or identifier itself.
public struct RateLimiter: Sendable {
    let limits: RateLimits
    let db: AuthDatabase
    let digest: KeyedDigest
    let store = RateLimitStore()

    public init(limits: RateLimits, db: AuthDatabase, keyring: Keyring) {
        self.limits = limits
        self.db = db
        digest = KeyedDigest(keyring: keyring, purpose: "rate limit buckets")
    }

    /// The scope buckets are kept under: the tenant's id when it resolved, else the name the
    /// request gave (an unknown tenant is limited like a known one), else `default`.
    public static func scope(_ tenant: Tenant?, named name: String?) -> String {
        tenant.map { $0.id.uuidString } ?? (name ?? TenantSlug.defaultTenant.value)
    }

    /// Takes one request of `action` from `ip`'s bucket and, when given, from the bucket of
    /// `identifier` within `scope` (the tenant the request names, resolved or not: an unknown
    /// tenant is limited like a known one). Throws `RATE_LIMITED` when either is empty.
    public func check(_ action: RateLimits.Action, ip: String?, identifier: String?, scope: String) async throws {
        guard limits.enabled else { return }
        var buckets: [RateLimitStore.Take] = []
        if let rule = limits.perIP[action], let ip, let address = IPAddress(ip) {
            buckets.append(.init(key: digest.hex([action.rawValue, "ip", address.rateLimitSubject]), rule: rule))
        }
        if let rule = limits.identifierRule(action), let identifier, !identifier.isEmpty {
            buckets.append(.init(key: digest.hex([action.rawValue, "id", scope.lowercased(), identifier]), rule: rule))
        }
        try await take(buckets, action)
    }

    /// The cap on password checks of one account (`passwordChecksPerAccountPerHour`), keyed by
    /// the account itself, so logging in by e-mail and by phone share it, and so do
    /// change-password and re-authentication. `userID` nil (no such account) takes from a
    /// throwaway bucket: the same statement, so the answer's cost tells nothing.
    public func checkAccount(_ userID: UUID?, scope: String) async throws {
        guard limits.enabled, let rule = limits.identifierRule(.login) else { return }
        let subject = (userID ?? UUID()).uuidString.lowercased()
        try await take([.init(key: digest.hex(["login", "account", scope.lowercased(), subject]), rule: rule)], .login)
    }

    private func take(_ buckets: [RateLimitStore.Take], _ action: RateLimits.Action) async throws {
        let waits = try await db.statements { try await store.take(buckets, on: $0) }
        guard let wait = waits.max() else { return }
        AuthMetrics.rateLimited[action]?.increment()
        throw AuthError(.rateLimited, retryAfter: max(1, Int(wait.rounded(.up))))
    }
}
