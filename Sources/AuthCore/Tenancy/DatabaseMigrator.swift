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
    /// the pool needs `jobs + 1` connections: one holds the migration lock). Each migration of
    /// each schema commits on its own, so an interrupted run loses nothing: the next one skips
    /// what is done and continues. `progress` is called after every tenant.
    @discardableResult
    public func migrate(jobs: Int = 1, progress: (@Sendable (Progress) -> Void)? = nil) async throws -> Report {
        let catalog = registry.migrations
        return try await registry.db.pool.withConnection { lease in
            try await PGMigrator.withMigrationLock(on: lease) {
                var report = Report()
                report.globalApplied = try await catalog.global.migrate(schema: MigrationCatalog.globalSchema, on: lease)
                    .map(\.name)
                let tenants = try await TenantStore().list(on: lease)
                report.tenantApplied = try await migrateTenants(tenants, jobs: max(1, jobs), first: lease, progress: progress)
                if !tenants.contains(where: { $0.slug == TenantSlug.defaultTenant.value }) {
                    let tenant = try await lease.withTransaction { tx in
                        try await registry.create(slug: .defaultTenant, name: "Default", in: tx)
                    }
                    report.createdDefaultTenant = true
                    report.tenantApplied[tenant.slug] = catalog.tenant.migrations.map(\.name)
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
                    guard s.next < tenants.count else { return nil }
                    defer { s.next += 1 }
                    return s.next
                }
                guard let index else { return }
                let tenant = tenants[index]
                let applied = try await catalog.tenant.migrate(schema: tenant.schemaName, on: conn)
                let snapshot = state.value.withLock { s -> Progress in
                    s.done += 1
                    if !applied.isEmpty {
                        s.migrated += 1
                        s.applied[tenant.slug] = applied.map(\.name)
                    }
                    return Progress(done: s.done, total: tenants.count, migrated: s.migrated, elapsed: .now - start)
                }
                progress?(snapshot)
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

    /// The readiness check: `status()` until it has once found everything up to date, then only
    /// the global schema (one query, which also proves the database answers). Tenants cannot
    /// fall behind this build's migrations after that — a new tenant is created migrated, in
    /// its registry row's transaction — and reading every tenant schema on every probe would
    /// cost ten thousand queries a probe at ten thousand tenants.
    public func readiness(_ memory: ReadinessMemory) async throws -> Status {
        if memory.upToDate.withLock({ $0 }) {
            let catalog = registry.migrations
            let pending = try await registry.db.pool.withConnection { lease in
                try await catalog.global.pendingMigrations(schema: MigrationCatalog.globalSchema, on: lease)
            }
            return Status(globalPending: pending.map(\.name), tenantsBehind: [])
        }
        let status = try await status()
        if status.isUpToDate { memory.upToDate.withLock { $0 = true } }
        return status
    }

    /// What is not yet applied (the readiness check). Throws when the database is unreachable
    /// or an applied migration was changed.
    public func status() async throws -> Status {
        let catalog = registry.migrations
        return try await registry.db.pool.withConnection { lease in
            let globalPending = try await catalog.global.pendingMigrations(schema: MigrationCatalog.globalSchema, on: lease)
            guard globalPending.isEmpty else {
                return Status(globalPending: globalPending.map(\.name), tenantsBehind: [])
            }
            var behind: [String] = []
            for tenant in try await TenantStore().list(on: lease) where !(try await catalog.tenant.pendingMigrations(schema: tenant.schemaName, on: lease)).isEmpty {
                behind.append(tenant.slug)
            }
            return Status(globalPending: [], tenantsBehind: behind)
        }
    }
}

/// The workers' shared cursor over the tenant list and what they applied.
private final class TenantCursor: Sendable {
    let value = Mutex((next: 0, done: 0, migrated: 0, applied: [String: [String]]()))
}

/// Whether a readiness check of this process has seen the database fully migrated.
public final class ReadinessMemory: Sendable {
    let upToDate = Mutex(false)
    public init() {}
}
