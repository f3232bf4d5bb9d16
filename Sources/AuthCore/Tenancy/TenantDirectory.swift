#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Resolves the tenant a request names (uuid or slug, else `default`) with a short-lived cache,
/// so the registry is not read on every request. An entry is trusted for `ttl` (a tenant
/// suspended elsewhere is refused within that); the cache holds `capacity` names (each tenant
/// is named by its id and by its slug) and drops the least recently used when full: it used to
/// empty itself past 10 000 names, which 10 000 active tenants reach on their own.
public final class TenantDirectory: Sendable {
    let registry: TenantRegistry
    let ttl: Duration
    private let cache: Mutex<LRUCache<String, (tenant: Tenant, at: ContinuousClock.Instant)>>

    public init(registry: TenantRegistry, ttl: Duration = .seconds(5), capacity: Int = 50_000) {
        self.registry = registry
        self.ttl = ttl
        self.cache = Mutex(LRUCache(capacity: capacity))
    }

    /// The active tenant named by `idOrSlug` (nil = `default`); 404 `TENANT_NOT_FOUND` otherwise.
    public func resolve(_ idOrSlug: String?) async throws -> Tenant {
        let key = (idOrSlug?.isEmpty == false ? idOrSlug! : TenantSlug.defaultTenant.value).lowercased()
        let now = ContinuousClock.now
        if let (tenant, at) = cache.withLock({ $0.get(key) }), now - at < ttl {
            AuthMetrics.tenantCacheHits.increment()
            return tenant
        }
        AuthMetrics.tenantCacheMisses.increment()
        guard key.utf8.count <= 64, let tenant = try await registry.find(key), tenant.status == .active else {
            throw AuthError.tenantNotFound
        }
        if ttl > .zero { cache.withLock { $0.set(key, (tenant, now)) } }
        return tenant
    }

    /// `GET /auth/tenants/lookup?slug=`: the active tenant with exactly this slug (never by id,
    /// so the route cannot be used to walk ids); 404 `TENANT_NOT_FOUND` otherwise, a malformed
    /// slug included.
    public func lookup(slug: String) async throws -> Tenant {
        guard let slug = try? TenantSlug(slug) else { throw AuthError.tenantNotFound }
        return try await resolve(slug.value)
    }

    /// Drops every cached entry of a tenant (deleted elsewhere).
    public func forget(_ id: UUID) {
        cache.withLock { $0.removeAll { $1.tenant.id == id } }
    }

    /// The active tenant with this id (from a token's `tenantId` claim).
    public func resolve(id: UUID) async throws -> Tenant {
        try await resolve(id.uuidString.lowercased())
    }
}
