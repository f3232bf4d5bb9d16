#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// Resolves the tenant a request names (uuid or slug, else `default`) with a short-lived cache,
/// so the registry is not read on every request.
public final class TenantDirectory: Sendable {
    let registry: TenantRegistry
    let ttl: Duration
    private let cache = Mutex<[String: (Tenant, ContinuousClock.Instant)]>([:])

    public init(registry: TenantRegistry, ttl: Duration = .seconds(5)) {
        self.registry = registry
        self.ttl = ttl
    }

    /// The active tenant named by `idOrSlug` (nil = `default`); 404 `TENANT_NOT_FOUND` otherwise.
    public func resolve(_ idOrSlug: String?) async throws -> Tenant {
        let key = (idOrSlug?.isEmpty == false ? idOrSlug! : TenantSlug.defaultTenant.value).lowercased()
        let now = ContinuousClock.now
        if let (tenant, at) = cache.withLock({ $0[key] }), now - at < ttl { return tenant }
        guard key.utf8.count <= 64, let tenant = try await registry.find(key), tenant.status == .active else {
            throw AuthError.tenantNotFound
        }
        cache.withLock { c in
            if c.count > 10_000 { c.removeAll() }
            c[key] = (tenant, now)
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

    /// Drops every cached entry of a tenant (deleted elsewhere).
    public func forget(_ id: UUID) {
        cache.withLock { c in c = c.filter { $0.value.0.id != id } }
    }

    /// The active tenant with this id (from a token's `tenantId` claim).
    public func resolve(id: UUID) async throws -> Tenant {
        try await resolve(id.uuidString.lowercased())
    }
}
