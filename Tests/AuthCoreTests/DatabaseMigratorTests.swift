@testable import AuthCore
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
            #expect(first.tenantApplied == ["default": try TestDatabase.catalog().tenant.migrations.map(\.name)])
            #expect(try await migrator.status().isUpToDate)
            let second = try await migrator.migrate()
            #expect(second == DatabaseMigrator.Report())
            let defaults = try await pool.query("SELECT 1 FROM auth.tenants WHERE slug = 'default'")
            #expect(defaults.count == 1)
        }
    }

    /// A default tenant made in a spare schema had nothing applied to it: the report says so.
    @Test func aDefaultTenantMadeFromASpareIsNotReportedAsMigrated() async throws {
        let db = try await TestDatabases.shared.blank()
        try await db.withPool(size: 2) { pool in
            let registry = try TestDatabase.registry(pool)
            _ = try await pool.withConnection { lease in
                try await registry.migrations.global.migrate(schema: MigrationCatalog.globalSchema, on: lease)
            }
            #expect(try await registry.makeSpares(upTo: 1) == 1)
            let report = try await DatabaseMigrator(registry: registry).migrate()
            #expect(report.createdDefaultTenant)
            #expect(report.tenantApplied == [:], "\(report.tenantApplied)")
            #expect(try await registry.spareCount() == 0)
            #expect(try await DatabaseMigrator(registry: registry).status().isUpToDate)
        }
    }

    /// A database from before the audit writers had names of their own: migrating on renames
    /// every schema's writer (schema by schema, in the tenant migration), and rows are written
    /// before the tenant migration (by the trigger's fallback) and after (by the writer).
    @Test func auditWritersAreRenamedInSchemasMadeBefore() async throws {
        let db = try await TestDatabases.shared.blank()
        try await db.withPool(size: 2) { pool in
            let catalog = try TestDatabase.catalog()
            let rename = "20261209120000"  // audit_writer_names, global and tenant
            let before = MigrationCatalog(
                global: catalog.global.migrations.filter { $0.version != rename },
                tenant: catalog.tenant.migrations.filter { $0.version != rename })
            #expect(before.global.migrations.count == catalog.global.migrations.count - 1)
            #expect(before.tenant.migrations.count == catalog.tenant.migrations.count - 1)
            let old = TenantRegistry(db: AuthDatabase(pool: pool), migrations: before)
            _ = try await DatabaseMigrator(registry: old).migrate()
            let tenant = try await old.create(slug: TestDatabase.uniqueSlug("older"))
            func writers() async throws -> (old: Int64, own: Int64) {
                let row = try #require(try await pool.query("""
                    SELECT count(*) FILTER (WHERE p.proname = 'write_audit_row')::int8 AS old,
                           count(*) FILTER (WHERE p.proname = 'write_audit_row_' || n.nspname)::int8 AS own
                      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                     WHERE n.nspname IN (SELECT schema_name FROM auth.tenants)
                    """).first)
                return (try row.decode("old", as: Int64.self), try row.decode("own", as: Int64.self))
            }
            func audited() async throws -> Int64 {
                let event = AuthEvent(.tenantSettingsChanged, tenantID: tenant.id, data: [:])
                try await old.db.transaction { tx in try await EventOutbox().append(event, in: tx) }
                return try #require(try await pool.query(
                    "SELECT count(*)::int8 AS n FROM \(tenant.schemaName).audit_log WHERE event_id = $1", event.id
                ).first).decode("n", as: Int64.self)
            }
            #expect(try await writers() == (old: 2, own: 0))
            #expect(try await audited() == 1)
            // The global file alone: what a schema sees until its tenant migration has run.
            let between = MigrationCatalog(global: catalog.global.migrations, tenant: before.tenant.migrations)
            _ = try await DatabaseMigrator(registry: TenantRegistry(db: AuthDatabase(pool: pool), migrations: between)).migrate()
            #expect(try await writers() == (old: 2, own: 0))
            #expect(try await audited() == 1)
            // An older build creating a tenant meanwhile (rolling deploy): its tenant files call
            // the new definition, so the new schema gets the renamed writer.
            _ = try await old.create(slug: TestDatabase.uniqueSlug("during"))
            #expect(try await writers() == (old: 2, own: 1))
            let registry = TenantRegistry(db: AuthDatabase(pool: pool), migrations: catalog)
            _ = try await DatabaseMigrator(registry: registry).migrate()
            #expect(try await writers() == (old: 0, own: 3))
            #expect(try await audited() == 1)
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
