import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import PGKit
import TestSupport
import Testing

/// Revocation broadcast: NOTIFY fans ids out to every process's set; a set that missed them
/// reloads the table on resync.
@Suite struct RevocationSetTests {
    @Test func broadcastReachesAnotherSetAndALateSetReloadsTheTable() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let listenerA = try PGListener(conninfo: db.conninfo)
            let listenerB = try PGListener(conninfo: db.conninfo)
            listenerA.start()
            listenerB.start()
            let setB = RevocationSet(pool: pool, listener: listenerB, retention: .seconds(900))
            let broadcaster = RevocationBroadcaster(pool: pool)
            let id = UUID()
            let tenant = try #require(try await TestDatabase.registry(pool).find("default"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await setB.run() }
                group.addTask { try await broadcaster.run() }
                let ok1 = try await eventually { setB.isSynced }
                #expect(ok1)
                // What a revoking flow does: the row in its transaction, the NOTIFY after COMMIT.
                try await pool.query(
                    "INSERT INTO auth.revocations (session_id, tenant_id, expires_at) VALUES ($1, $2, now() + interval '15 minutes')",
                    id, tenant.id)
                broadcaster.broadcast([id])
                let ok2 = try await eventually(timeout: .seconds(10)) { setB.contains(id) }
                #expect(ok2)
                // A set started afterwards missed the NOTIFY: its first resync loads the table.
                let late = RevocationSet(pool: pool, listener: listenerA, retention: .seconds(900))
                group.addTask { try await late.run() }
                let ok3 = try await eventually(timeout: .seconds(10)) { late.contains(id) }
                #expect(ok3)
                #expect(!late.contains(UUID()))
                group.cancelAll()
            }
            await listenerA.shutdown()
            await listenerB.shutdown()
        }
    }

    /// Deleting a tenant is broadcast at COMMIT: every set hears of it and its observers (the
    /// tenant cache) drop it; a rolled-back deletion says nothing.
    @Test func tenantDeletionIsBroadcast() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let listener = try PGListener(conninfo: db.conninfo)
            listener.start()
            let set = RevocationSet(pool: pool, listener: listener, retention: .seconds(900))
            let registry = try TestDatabase.registry(pool)
            let directory = TenantDirectory(registry: registry, ttl: .seconds(3600))
            set.onTenantDeleted { directory.forget($0) }
            let slug = TestDatabase.uniqueSlug("gone")
            let tenant = try await registry.create(slug: slug)
            let kept = try await registry.create(slug: TestDatabase.uniqueSlug("kept"))
            #expect(try await directory.resolve(slug).id == tenant.id)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await set.run() }
                let synced = try await eventually { set.isSynced }
                #expect(synced)
                try await registry.delete(slug: slug)
                let heard = try await eventually(timeout: .seconds(10)) { set.tenantDeleted(tenant.id) }
                #expect(heard)
                #expect(!set.tenantDeleted(kept.id))
                // The cache (TTL one hour here) forgot it: the next lookup reads the registry.
                await #expect(throws: AuthError.tenantNotFound) { try await directory.resolve(slug) }
                group.cancelAll()
            }
            await listener.shutdown()
        }
    }

    @Test func manyIdsAreChunkedUnderThePayloadLimit() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let listener = try PGListener(conninfo: db.conninfo)
            listener.start()
            let set = RevocationSet(pool: pool, listener: listener, retention: .seconds(900))
            let broadcaster = RevocationBroadcaster(pool: pool)
            let ids = (0..<1000).map { _ in UUID() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await set.run() }
                group.addTask { try await broadcaster.run() }
                let ok4 = try await eventually { set.isSynced }
                #expect(ok4)
                broadcaster.broadcast(ids)
                let ok5 = try await eventually(timeout: .seconds(10)) { ids.allSatisfy { set.contains($0) } }
                #expect(ok5)
                group.cancelAll()
            }
            await listener.shutdown()
        }
    }
}
