#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit
import Synchronization

/// Brings the whole database up to date: the global schema, then every tenant schema, then the
/// `default` tenant. Serialised across processes by the migration advisory lock.
public struct DatabaseMigrator: Sendable {
    /// What one run did.
    public struct Report: Sendable, Equatable {
        public var globalApplied: [String] = []
        /// Tenant slug → migrations applied to its schema.
        public var tenantApplied: [String: [String]] = [:]
        public var createdDefaultTenant = false
        public init() {}
    }

    /// How far the database is behind this build's migrations.
    public struct Status: Sendable, Equatable {
        public var globalPending: [String]
        /// Slugs of tenants whose schema has pending migrations.
        public var tenantsBehind: [String]
        public var isUpToDate: Bool { globalPending.isEmpty && tenantsBehind.isEmpty }
    }

    /// How far a run is through the tenants (for `authd migrate`'s progress line).
    public struct Progress: Sendable {
        /// Tenant schemas checked (and migrated where behind) so far, of `total`.
        public var done: Int
        public var total: Int
        /// Of those, the schemas that had migrations applied.
        public var migrated: Int
        public var elapsed: Duration
    }

    public let registry: TenantRegistry

    public init(registry: TenantRegistry) {
        self.registry = registry
    }

    /// Migrates everything and makes sure the `default` tenant exists.
    ///
    /// Tenant schemas are migrated by `jobs` connections at once (each schema by one of them;
    /// the pool needs `jobs + 1` connections: one holds the migration lock; `jobs` is lowered to
    /// fit a smaller pool). Each migration of each schema commits on its own, so an interrupted
    /// run loses nothing: the next one skips what is done and continues. `progress` is called after every tenant.
    @discardableResult
    public func migrate(jobs: Int = 1, progress: (@Sendable (Progress) -> Void)? = nil) async throws -> Report {
        let catalog = registry.migrations
        return try await registry.db.pool.withConnection { lease in
            try await PGMigrator.withMigrationLock(on: lease) {
                var report = Report()
                report.globalApplied = try await catalog.global.migrate(schema: MigrationCatalog.globalSchema, on: lease)
                    .map(\.name)
                let tenants = try await TenantStore().list(on: lease)
                // More workers than the pool's other connections would only wait for each other.
                let workers = max(1, min(jobs, registry.db.pool.configuration.size - 1))
                report.tenantApplied = try await migrateTenants(tenants, jobs: workers, first: lease, progress: progress)
                if !tenants.contains(where: { $0.slug == TenantSlug.defaultTenant.value }) {
                    // On the lease that holds the lock: the create takes it shared, which this
                    // session may; a transaction on another connection would wait for it forever.
                    let (tenant, applied) = try await lease.withTransaction { tx in
                        try await registry.createReporting(slug: .defaultTenant, name: "Default", in: tx)
                    }
                    report.createdDefaultTenant = true
                    if !applied.isEmpty { report.tenantApplied[tenant.slug] = applied }
                }
                return report
            }
        }
    }

    /// Every tenant's schema, by `jobs` workers pulling the next tenant from a shared cursor;
    /// with one job, on the lease that holds the lock. The first failure stops every worker.
    private func migrateTenants(
        _ tenants: [Tenant], jobs: Int, first lease: PGLease, progress: (@Sendable (Progress) -> Void)?
    ) async throws -> [String: [String]] {
        let catalog = registry.migrations
        let start = ContinuousClock.now
        let state = TenantCursor()
        @Sendable func run(on conn: PGLease) async throws {
            while true {
                let index = state.value.withLock { s -> Int? in
                    // A failed worker stops the others at their next tenant (statements do not
                    // observe cancellation).
                    guard !s.failed, s.next < tenants.count else { return nil }
                    defer { s.next += 1 }
                    return s.next
                }
                guard let index else { return }
                let tenant = tenants[index]
                let applied: [PGMigration]
                do {
                    applied = try await catalog.tenant.migrate(schema: tenant.schemaName, on: conn)
                } catch {
                    state.value.withLock { $0.failed = true }
                    throw error
                }
                // Reported under the lock: progress arrives in order, one call at a time.
                state.value.withLock { s in
                    s.done += 1
                    if !applied.isEmpty {
                        s.migrated += 1
                        s.applied[tenant.slug] = applied.map(\.name)
                    }
                    progress?(Progress(done: s.done, total: tenants.count, migrated: s.migrated, elapsed: .now - start))
                }
            }
        }
        if jobs == 1 {
            try await run(on: lease)
        } else {
            let pool = registry.db.pool
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<min(jobs, max(tenants.count, 1)) {
                    group.addTask { try await pool.withConnection { try await run(on: $0) } }
                }
                try await group.waitForAll()
            }
        }
        return state.value.withLock { $0.applied }
    }

    /// The readiness check: `status()` until it has once found everything up to date; after
    /// that the global schema and only the tenants created since (two queries, which also
    /// prove the database answers). Reading every tenant schema on every probe costs ten
    /// thousand queries a probe at ten thousand tenants; a tenant that existed and was current
    /// stays current for this build, but one created meanwhile by an older build (a rolling
    /// deploy) may be behind, so new tenants are still checked.
    public func readiness(_ memory: ReadinessMemory) async throws -> Status {
        if let since = memory.upToDateSince.withLock({ $0 }) {
            let catalog = registry.migrations
            return try await registry.db.pool.withConnection { lease in
                let pending = try await catalog.global.pendingMigrations(schema: MigrationCatalog.globalSchema, on: lease)
                guard pending.isEmpty else { return Status(globalPending: pending.map(\.name), tenantsBehind: []) }
                let recent = try await TenantStore().list(createdSince: since, on: lease)
                let behind = try await Self.behind(recent, catalog: catalog, on: lease)
                // Current ones need not be read again: move the mark past them.
                if behind.isEmpty, let newest = recent.last?.createdAt { memory.upToDateSince.withLock { $0 = newest } }
                return Status(globalPending: [], tenantsBehind: behind)
            }
        }
        let (status, newest) = try await statusAndNewest()
        if status.isUpToDate { memory.upToDateSince.withLock { $0 = newest ?? Date(timeIntervalSince1970: 0) } }
        return status
    }

    /// What is not yet applied (the readiness check). Throws when the database is unreachable
    /// or an applied migration was changed.
    public func status() async throws -> Status {
        try await statusAndNewest().status
    }

    /// The status, and the newest tenant's creation time when the tenants were read.
    private func statusAndNewest() async throws -> (status: Status, newest: Date?) {
        let catalog = registry.migrations
        return try await registry.db.pool.withConnection { lease in
            let globalPending = try await catalog.global.pendingMigrations(schema: MigrationCatalog.globalSchema, on: lease)
            guard globalPending.isEmpty else {
                return (Status(globalPending: globalPending.map(\.name), tenantsBehind: []), nil)
            }
            let tenants = try await TenantStore().list(on: lease)
            let behind = try await Self.behind(tenants, catalog: catalog, on: lease)
            return (Status(globalPending: [], tenantsBehind: behind), tenants.map(\.createdAt).max())
        }
    }

    /// The slugs of `tenants` whose schema has pending migrations.
    private static func behind(_ tenants: [Tenant], catalog: MigrationCatalog, on lease: PGLease) async throws -> [String] {
        var behind: [String] = []
        for tenant in tenants where !(try await catalog.tenant.pendingMigrations(schema: tenant.schemaName, on: lease)).isEmpty {
            behind.append(tenant.slug)
        }
        return behind
    }
}

/// The workers' shared cursor over the tenant list and what they applied.
private final class TenantCursor: Sendable {
    let value = Mutex((next: 0, done: 0, migrated: 0, failed: false, applied: [String: [String]]()))
}

/// Whether a readiness check of this process has seen the database fully migrated, and the
/// newest tenant it saw then (later ones are still checked).
public final class ReadinessMemory: Sendable {
    let upToDateSince = Mutex<Date?>(nil)
    public init() {}
}
