import PGKit

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

    public let registry: TenantRegistry

    public init(registry: TenantRegistry) {
        self.registry = registry
    }

    /// Migrates everything and makes sure the `default` tenant exists.
    @discardableResult
    public func migrate() async throws -> Report {
        let catalog = registry.migrations
        return try await registry.db.pool.withConnection { lease in
            try await PGMigrator.withMigrationLock(on: lease) {
                var report = Report()
                report.globalApplied = try await catalog.global.migrate(schema: MigrationCatalog.globalSchema, on: lease)
                    .map(\.name)
                let tenants = try await TenantStore().list(on: lease)
                for tenant in tenants {
                    let applied = try await catalog.tenant.migrate(schema: tenant.schemaName, on: lease)
                    if !applied.isEmpty { report.tenantApplied[tenant.slug] = applied.map(\.name) }
                }
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
