@testable import AuthCore
import PGKit
import Synchronization
import TestSupport
import Testing

/// The tenant cache keeps the names used most recently, within its capacity.
@Suite struct TenantDirectoryTests {
    /// A rename made behind the cache's back shows which lookups were answered from memory.
    @Test func aFullCacheDropsTheLeastRecentlyUsedNameOnly() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let directory = TenantDirectory(registry: registry, ttl: .seconds(3600), unsyncedTTL: .seconds(3600), capacity: 2)
            let a = try await registry.create(slug: TestDatabase.uniqueSlug("lru-a"), name: "A")
            let b = try await registry.create(slug: TestDatabase.uniqueSlug("lru-b"), name: "B")
            let c = try await registry.create(slug: TestDatabase.uniqueSlug("lru-c"), name: "C")
            _ = try await directory.resolve(a.slug)
            _ = try await directory.resolve(b.slug)
            _ = try await registry.update(id: a.id, name: "A2", status: nil)
            _ = try await registry.update(id: b.id, name: "B2", status: nil)
            #expect(try await directory.resolve(a.slug).name == "A")  // cached; now b is the oldest
            _ = try await directory.resolve(c.slug)  // full: b goes, a stays
            #expect(try await directory.resolve(a.slug).name == "A")
            #expect(try await directory.resolve(b.slug).name == "B2")
            // Forgetting a tenant drops every name it is cached under.
            let roomy = TenantDirectory(registry: registry, ttl: .seconds(3600), unsyncedTTL: .seconds(3600))
            let id = a.id.uuidString.lowercased()
            _ = try await roomy.resolve(a.slug)
            _ = try await roomy.resolve(id)
            _ = try await registry.update(id: a.id, name: "A3", status: nil)
            #expect(try await roomy.resolve(id).name == "A2")
            roomy.forget(a.id)
            #expect(try await roomy.resolve(a.slug).name == "A3")
            #expect(try await roomy.resolve(id).name == "A3")
            // A TTL of zero (AUTH_TENANT_CACHE_SECONDS=0) reads the registry every time.
            let uncached = TenantDirectory(registry: registry, ttl: .zero)
            #expect(try await uncached.resolve(a.slug).name == "A3")
            _ = try await registry.update(id: a.id, name: "A4", status: nil)
            #expect(try await uncached.resolve(a.slug).name == "A4")
        }
    }

    /// Forgetting a tenant finds both its names after many tenants have passed through a small
    /// cache (its record of slugs pruned to the tenants still held).
    @Test func forgettingFindsBothNamesAfterManyTenantsPassedThrough() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let directory = TenantDirectory(registry: registry, ttl: .seconds(3600), unsyncedTTL: .seconds(3600), capacity: 2)
            var tenants: [Tenant] = []
            for i in 0..<6 { tenants.append(try await registry.create(slug: TestDatabase.uniqueSlug("pass\(i)"), name: "N\(i)")) }
            for tenant in tenants { _ = try await directory.resolve(tenant.slug) }
            let last = tenants[5]
            _ = try await directory.resolve(last.id.uuidString.lowercased())  // now held under both names
            _ = try await registry.update(id: last.id, name: "Renamed", status: nil)
            #expect(try await directory.resolve(last.slug).name == "N5")
            directory.forget(last.id)
            #expect(try await directory.resolve(last.slug).name == "Renamed")
            #expect(try await directory.resolve(last.id.uuidString.lowercased()).name == "Renamed")
        }
    }

    /// An entry is trusted for the full TTL only while the broadcast feed is in sync; out of
    /// sync, for the unsynced TTL (zero here: every lookup reads the registry).
    @Test func anOutOfSyncFeedShortensTheTrust() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let inSync = Mutex(true)
            let directory = TenantDirectory(
                registry: registry, ttl: .seconds(3600), unsyncedTTL: .zero, feedInSync: { inSync.withLock { $0 } })
            let tenant = try await registry.create(slug: TestDatabase.uniqueSlug("feed"), name: "One")
            #expect(try await directory.resolve(tenant.slug).name == "One")
            try await pool.query("UPDATE auth.tenants SET name = 'Two' WHERE id = $1", tenant.id)
            #expect(try await directory.resolve(tenant.slug).name == "One")
            inSync.withLock { $0 = false }
            #expect(try await directory.resolve(tenant.slug).name == "Two")
            // forgetAll drops what the feed may have missed.
            inSync.withLock { $0 = true }
            try await pool.query("UPDATE auth.tenants SET name = 'Three' WHERE id = $1", tenant.id)
            #expect(try await directory.resolve(tenant.slug).name == "Two")
            directory.forgetAll()
            #expect(try await directory.resolve(tenant.slug).name == "Three")
        }
    }
}
