import AuthCore
import PGKit
import TestSupport
import Testing

/// Tenants: create/delete, isolation between schemas, slug validation.
@Suite struct TenantRegistryTests {
    static let db = SuiteDatabase()

    @Test func createMakesASchemaWithMigratedTables() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let slug = TestDatabase.uniqueSlug()
            let tenant = try await registry.create(slug: slug, name: "Acme")
            #expect(tenant.slug == slug)
            #expect(tenant.name == "Acme")
            #expect(tenant.schemaName == Tenant.schemaName(for: tenant.id))
            #expect(tenant.status == .active)
            let tables = try await pool.query(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1", tenant.schemaName)
            let names = try tables.map { try $0.decode("table_name", as: String.self) }
            #expect(names.contains("users") && names.contains("sessions") && names.contains("identities"))
            #expect(try await registry.find(slug) == tenant)
            #expect(try await registry.find(tenant.id.uuidString) == tenant)
        }
    }

    @Test func aCreateWhileAProcessMigratesIs503AfterAWhileAndChangesNothing() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            var registry = try TestDatabase.registry(pool)
            registry.migrationWait = .milliseconds(200)
            let slug = TestDatabase.uniqueSlug()
            try await TestDatabase.whileMigrating(pool) {
                do {
                    _ = try await registry.create(slug: slug)
                    Issue.record("a create must not run beside a migration")
                } catch let error as AuthError {
                    #expect(error.status == 503)
                    #expect(error.code == "SERVICE_UNAVAILABLE")
                    #expect((error.retryAfter ?? 0) >= 1)
                }
            }
            #expect(try await registry.find(slug) == nil)
            // Once the migration is over, the same create goes through.
            #expect(try await registry.create(slug: slug).slug == slug)
        }
    }

    @Test func deleteDropsTheSchema() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let tenant = try await registry.create(slug: TestDatabase.uniqueSlug())
            try await registry.delete(slug: tenant.slug)
            #expect(try await registry.find(tenant.slug) == nil)
            let schemas = try await pool.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", tenant.schemaName)
            #expect(schemas.isEmpty)
            await #expect(throws: AuthError.tenantNotFound) { try await registry.delete(slug: tenant.slug) }
            await #expect(throws: AuthError.tenantProtected) { try await registry.delete(slug: "default") }
        }
    }

    @Test func twoTenantsTablesAreSeparate() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let a = try await registry.create(slug: TestDatabase.uniqueSlug("a"))
            let b = try await registry.create(slug: TestDatabase.uniqueSlug("b"))
            // The same email in both tenants: two different users, no conflict.
            for tenant in [a, b] {
                try await registry.db.inTenant(tenant) { tx in
                    try await tx.query("INSERT INTO users (email) VALUES ($1)", "same@example.com")
                }
            }
            try await registry.db.inTenant(a) { tx in
                try await tx.query("INSERT INTO users (email) VALUES ($1)", "only-a@example.com")
            }
            let countA = try await registry.db.inTenant(a) { tx in
                try #require(try await tx.query("SELECT count(*)::int8 AS n FROM users").first).decode("n", as: Int.self)
            }
            let countB = try await registry.db.inTenant(b) { tx in
                try #require(try await tx.query("SELECT count(*)::int8 AS n FROM users").first).decode("n", as: Int.self)
            }
            #expect(countA == 2)
            #expect(countB == 1)
        }
    }

    @Test func tenantSearchPathDoesNotLeakToThePooledConnection() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let registry = try TestDatabase.registry(pool)
            let tenant = try await registry.create(slug: TestDatabase.uniqueSlug())
            let inside = try await registry.db.inTenant(tenant) { tx in
                try #require(try await tx.query("SHOW search_path").first).decode("search_path", as: String.self)
            }
            #expect(inside.contains(tenant.schemaName))
            let after: String = try #require(try await pool.query("SHOW search_path").first).decode("search_path")
            #expect(!after.contains(tenant.schemaName))
            // Unqualified tenant tables are not reachable outside a tenant transaction.
            await #expect(throws: PGError.self) { try await pool.query("SELECT count(*) FROM users") }
        }
    }

    @Test(arguments: ["a'b", "a b", "a;drop schema auth", "", "-a", "a-", "a--b", "ABC", "é", String(repeating: "a", count: 64), "a\"b"])
    func badSlugIsRejectedAndCreatesNothing(_ slug: String) async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 2) { pool in
            let registry = try TestDatabase.registry(pool)
            do {
                _ = try await registry.create(slug: slug)
                Issue.record("slug \(slug) must be rejected")
            } catch let error as AuthError {
                #expect(error.status == 400)
                #expect(error.code == "INVALID_SLUG_FORMAT")
            }
            let rows = try await pool.query("SELECT 1 FROM auth.tenants WHERE slug = $1", slug)
            #expect(rows.isEmpty)
            // No schema exists without its registry row.
            let orphans = try await pool.query(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%' AND nspname NOT IN (SELECT schema_name FROM auth.tenants)")
            #expect(orphans.isEmpty)
        }
    }

    @Test func duplicateSlugIsAConflictAndChangesNothing() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            let slug = TestDatabase.uniqueSlug()
            let first = try await registry.create(slug: slug)
            await #expect(throws: AuthError.tenantAlreadyExists) { try await registry.create(slug: slug) }
            #expect(try await registry.find(slug) == first)
        }
    }

    @Test func badNameIsRejected() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 1) { pool in
            let registry = try TestDatabase.registry(pool)
            for name in ["", "   ", "tab\u{0009}name", String(repeating: "n", count: 201)] {
                await #expect(throws: AuthError.self) { try await registry.create(slug: TestDatabase.uniqueSlug(), name: name) }
            }
        }
    }
}
