#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Resolves the tenant a request names (uuid or slug, else `default`) with a cache, so the
/// registry is not read on every request.
///
/// Changes made through authd (a tenant disabled, renamed, its settings changed, deleted) are
/// broadcast at their COMMIT and drop the tenant's entries in every process as they arrive
/// (`RevocationSet.onTenantChange`, which also reads every 2 s the tenants whose change time
/// moved, for a broadcast gone astray). So an entry is trusted for `ttl` while that feed is in sync
/// (`feedInSync`); otherwise — no feed, or one that may have missed broadcasts — for at most
/// `unsyncedTTL`, and a resync drops every entry. `ttl` then bounds only changes made behind
/// authd's back (in SQL). The cache holds `capacity` names (each tenant is named by its id and by
/// its slug) and drops the least recently used when full.
public final class TenantDirectory: Sendable {
    let registry: TenantRegistry
    let ttl: Duration
    let unsyncedTTL: Duration
    let feedInSync: (@Sendable () -> Bool)?
    private let cache: Mutex<Cache>

    struct Cache {
        var entries: LRUCache<String, (tenant: Tenant, at: ContinuousClock.Instant)>
        /// Each cached tenant's slug (slugs never change), so forgetting a tenant's id finds its
        /// other name without scanning the cache: a change is broadcast to every process.
        var slugs: [UUID: String] = [:]
        /// Bumped by every forget: a registry read that started before one must not store what
        /// it read (it may predate the change the forget was for).
        var generation = 0

        mutating func store(_ key: String, _ tenant: Tenant, at: ContinuousClock.Instant) {
            // Evicted entries leave their slug behind: past twice the capacity, keep only the
            // slugs of tenants still cached under either name (amortised O(1) per store).
            if slugs.count >= 2 * entries.capacity {
                slugs = slugs.filter { id, slug in entries.contains(id.uuidString.lowercased()) || entries.contains(slug) }
            }
            entries.set(key, (tenant, at))
            slugs[tenant.id] = tenant.slug
        }

        mutating func forget(_ id: UUID) {
            generation &+= 1
            entries.remove(id.uuidString.lowercased())
            if let slug = slugs.removeValue(forKey: id) { entries.remove(slug) }
        }

        mutating func clear() {
            generation &+= 1
            entries = LRUCache(capacity: entries.capacity)
            slugs = [:]
        }
    }

    public init(
        registry: TenantRegistry, ttl: Duration = .seconds(60), unsyncedTTL: Duration = .seconds(5),
        feedInSync: (@Sendable () -> Bool)? = nil, capacity: Int = 50_000
    ) {
        self.registry = registry
        self.ttl = ttl
        self.unsyncedTTL = min(ttl, unsyncedTTL)
        self.feedInSync = feedInSync
        self.cache = Mutex(Cache(entries: LRUCache(capacity: capacity)))
    }

    /// The active tenant named by `idOrSlug` (nil = `default`); 404 `TENANT_NOT_FOUND` otherwise.
    public func resolve(_ idOrSlug: String?) async throws -> Tenant {
        let key = (idOrSlug?.isEmpty == false ? idOrSlug! : TenantSlug.defaultTenant.value).lowercased()
        let now = ContinuousClock.now
        let (cached, generation) = cache.withLock { ($0.entries.get(key), $0.generation) }
        // The feed is asked only when the entry's age calls for it (a lock and a clock read).
        if let (tenant, at) = cached, now - at < unsyncedTTL || (now - at < ttl && feedInSync?() == true) {
            AuthMetrics.tenantCacheHits.increment()
            return tenant
        }
        AuthMetrics.tenantCacheMisses.increment()
        guard key.utf8.count <= 64, let tenant = try await registry.find(key), tenant.status == .active else {
            throw AuthError.tenantNotFound
        }
        if ttl > .zero {
            cache.withLock { c in
                if c.generation == generation { c.store(key, tenant, at: now) }
            }
        }
        return tenant
    }

    /// `GET /auth/tenants/lookup?slug=`: the active tenant with exactly this slug (never by id,
    /// so the route cannot be used to walk ids); 404 `TENANT_NOT_FOUND` otherwise, a malformed
    /// slug included.
    public func lookup(slug: String) async throws -> Tenant {
        guard let slug = try? TenantSlug(slug) else { throw AuthError.tenantNotFound }
        return try await resolve(slug.value)
    }

    /// Drops every cached entry of a tenant (changed or deleted, here or elsewhere).
    public func forget(_ id: UUID) {
        cache.withLock { $0.forget(id) }
    }

    /// Drops every entry (the broadcast feed resynced: changes may have been missed).
    public func forgetAll() {
        cache.withLock { $0.clear() }
    }

    /// The active tenant with this id (from a token's `tenantId` claim).
    public func resolve(id: UUID) async throws -> Tenant {
        try await resolve(id.uuidString.lowercased())
    }
}
