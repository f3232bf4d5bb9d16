import Metrics

/// authd's own metrics, through swift-metrics (`authd serve` exports them at `/metrics` in the
/// Prometheus text format; without a bootstrapped backend they cost nothing). Each metric is made
/// here, once: a name never appears with two label sets, which the Prometheus backend refuses,
/// and hot paths never look a metric up by name.
public enum AuthMetrics {
    static let signups = Counter(label: "authd_signups_total")
    static let loginsSucceeded = Counter(label: "authd_logins_total", dimensions: [("result", "success")])
    static let loginsFailed = Counter(label: "authd_logins_total", dimensions: [("result", "failure")])
    static let refreshesSucceeded = Counter(label: "authd_refreshes_total", dimensions: [("result", "success")])
    static let refreshesFailed = Counter(label: "authd_refreshes_total", dimensions: [("result", "failure")])
    static let refreshReuseDetected = Counter(label: "authd_refresh_token_reuse_detected_total")
    static let sessionsRevoked = Counter(label: "authd_sessions_revoked_total")
    /// After-commit hooks dropped because their queue was full (the hook never ran).
    static let afterCommitDropped = Counter(label: "authd_after_commit_hooks_dropped_total")
    /// Guarded requests answered from memory vs. with a database read.
    static let guardCacheHits = Counter(label: "authd_guard_lookups_total", dimensions: [("source", "memory")])
    static let guardCacheMisses = Counter(label: "authd_guard_lookups_total", dimensions: [("source", "database")])
    /// Tenant names (a request's slug or a token's tenant id) resolved from the tenant cache vs.
    /// with a read of the registry (missing, expired, or dropped from a full cache).
    static let tenantCacheHits = Counter(label: "authd_tenant_lookups_total", dimensions: [("source", "memory")])
    static let tenantCacheMisses = Counter(label: "authd_tenant_lookups_total", dimensions: [("source", "database")])
    /// Session ids received on the revocation channel or reloaded from the table.
    static let revocationsReceived = Counter(label: "authd_revocations_received_total")
    /// 1 while this process's revocation set is known to be current, else 0 (the guard then reads
    /// the database for every request).
    static let revocationSetInSync = Gauge(label: "authd_revocation_set_in_sync")

    /// Requests refused by a rate limit (429), by action.
    static let rateLimited = Dictionary(uniqueKeysWithValues: RateLimits.Action.allCases.map {
        ($0, Counter(label: "authd_rate_limited_total", dimensions: [("action", $0.rawValue)]))
    })
    /// Accounts locked after repeated wrong passwords.
    static let accountsLocked = Counter(label: "authd_accounts_locked_total")
    /// Password hashes and verifies refused because the hashing queue was full (503).
    static let hasherOverloaded = Counter(label: "authd_password_hasher_overloaded_total")

    /// Counts one flow outcome.
    static func count(_ success: Counter, _ failure: Counter, _ body: () async throws -> AuthResponse) async throws -> AuthResponse {
        do {
            let response = try await body()
            success.increment()
            return response
        } catch {
            failure.increment()
            throw error
        }
    }
}
