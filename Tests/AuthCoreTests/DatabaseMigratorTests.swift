import AuthCore
import PGKit
import TestSupport
import Testing

/// `authd migrate`'s engine on a blank database.
@Suite struct DatabaseMigratorTests {
    @Test func migrateCreatesEverythingOnceAndReportsUpToDate() async throws {
        let db = try await TestDatabases.shared.blank()
        try await db.withPool(size: 2) { pool in
            let migrator = DatabaseMigrator(registry: try TestDatabase.registry(pool))
            let before = try await migrator.status()
            #expect(!before.isUpToDate)
            let first = try await migrator.migrate()
            #expect(!first.globalApplied.isEmpty)
            #expect(first.createdDefaultTenant)
            #expect(try await migrator.status().isUpToDate)
            let second = try await migrator.migrate()
            #expect(second == DatabaseMigrator.Report())
            let defaults = try await pool.query("SELECT 1 FROM auth.tenants WHERE slug = 'default'")
            #expect(defaults.count == 1)
        }
    }

    @Test func newTenantMigrationReachesExistingTenants() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool(size: 2) { pool in
            let catalog = try TestDatabase.catalog()
            let extra = try PGMigration(
                fileName: "29991231000000_create_extras.sql", sql: "-- why: test\nCREATE TABLE extras (id int);")
            let extended = MigrationCatalog(global: catalog.global.migrations, tenant: catalog.tenant.migrations + [extra])
            let migrator = DatabaseMigrator(registry: TenantRegistry(db: AuthDatabase(pool: pool), migrations: extended))
            let status = try await migrator.status()
            #expect(status.tenantsBehind == ["default"])
            let report = try await migrator.migrate()
            #expect(report.tenantApplied["default"] == ["29991231000000_create_extras"])
            #expect(try await migrator.status().isUpToDate)
        }
    }
}
