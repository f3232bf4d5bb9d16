@testable import AuthClient
import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
import Logging
import PGKit
import TestSupport
import Testing

/// The backends' follower reads the tenant list when a tenant changes, not only on its timer.
@Suite struct RevocationFollowerTests {
    /// With the timer set to an hour, only the `tenant-changed` broadcast can make the follower
    /// read the list again and refuse the disabled tenant's tokens.
    @Test func aDisabledTenantIsRefusedOnItsBroadcast() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let tenant = try await registry.create(slug: TestDatabase.uniqueSlug("followed"))
            let follower = try RevocationFollower(
                conninfo: db.conninfo, rereadInterval: .seconds(1), freshness: .seconds(30), tenantInterval: 3600,
                logger: Logger(label: "test.follower"))
            let session = UUID()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await follower.run() }
                // 40 s to sync, as in the revocation tests: a wait for readiness, not a speed claim.
                let synced = try await eventually(timeout: .seconds(40)) { follower.isSynced }
                #expect(synced)
                #expect(follower.verdict(sessionID: session, tenantID: tenant.id, issuedAt: Date()) == .allowed)
                _ = try await registry.update(id: tenant.id, name: nil, status: .disabled)
                let refused = try await eventually {
                    follower.verdict(sessionID: session, tenantID: tenant.id, issuedAt: Date()) == .revoked
                }
                #expect(refused)
                group.cancelAll()
            }
        }
    }
}
