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
            // The readiness check reads every schema until it has seen them all current.
            let memory = ReadinessMemory()
            #expect(try await migrator.readiness(memory).tenantsBehind == ["default"])
            let report = try await migrator.migrate()
            #expect(report.tenantApplied["default"] == ["29991231000000_create_extras"])
            #expect(try await migrator.status().isUpToDate)
            #expect(try await migrator.readiness(memory).isUpToDate)
            #expect(try await migrator.readiness(memory).isUpToDate)
            // A tenant created afterwards by an older build (without the extra migration) is
            // still caught: readiness reads the tenants created since it last saw them current.
            let older = TenantRegistry(db: AuthDatabase(pool: pool), migrations: catalog)
            let late = try await older.create(slug: TestDatabase.uniqueSlug("late"))
            #expect(try await migrator.readiness(memory).tenantsBehind == [late.slug])
            _ = try await migrator.migrate()
            #expect(try await migrator.readiness(memory).isUpToDate)
        }
    }

    /// Issue 21 item 3: tenants migrated by several connections at once, with progress; a run
    /// stopped by a failing tenant loses nothing and the next run continues where it stopped.
    @Test func tenantsMigrateInParallelWithProgressAndResumeAfterAFailure() async throws {
        let db = try await TestDatabases.shared.migrated()
        try await db.withPool(size: 5) { pool in
            let registry = try TestDatabase.registry(pool)
            var slugs: [String] = []
            for i in 0..<12 { slugs.append(try await registry.create(slug: TestDatabase.uniqueSlug("m\(i)")).slug) }
            let catalog = try TestDatabase.catalog()
            let extra = try PGMigration(
                fileName: "29991231000000_create_extras.sql", sql: "-- why: test\nCREATE TABLE extras (id int);")
            let extended = MigrationCatalog(global: catalog.global.migrations, tenant: catalog.tenant.migrations + [extra])
            let migrator = DatabaseMigrator(registry: TenantRegistry(db: AuthDatabase(pool: pool), migrations: extended))
            // One tenant cannot take the migration (its schema already has the table).
            let blocked = try #require(try await registry.find(slugs[7]))
            try await pool.query("CREATE TABLE \(blocked.schemaName).extras (other text)")
            await #expect(throws: (any Error).self) { try await migrator.migrate(jobs: 4) }
            let behind = try await migrator.status().tenantsBehind
            #expect(behind.contains(blocked.slug))
            #expect(behind.count < 13, "tenants migrated before the failure stay migrated: \(behind)")

            try await pool.query("DROP TABLE \(blocked.schemaName).extras")
            let seen = Locked<[DatabaseMigrator.Progress]>([])
            let report = try await migrator.migrate(jobs: 4) { progress in seen.withLock { $0.append(progress) } }
            // Only what the first run left is migrated now.
            #expect(Set(report.tenantApplied.keys) == Set(behind), "\(report.tenantApplied.keys.sorted())")
            #expect(report.tenantApplied.values.allSatisfy { $0 == ["29991231000000_create_extras"] })
            let progress = seen.value
            #expect(progress.count == 13 && progress.last?.done == 13 && progress.last?.total == 13)
            #expect(progress.last?.migrated == behind.count)
            #expect(progress.map(\.done) == Array(1...13), "each tenant reported once, in order of completion")
            #expect(try await migrator.status().isUpToDate)
        }
    }
}
