import AuthCore
import Foundation
import Logging
import PGKit
import TestSupport
import Testing

/// Spare tenant schemas: made ahead, claimed by creates (id and schema), given back by a failed
/// create, claimed only by a build with the same files, never more than the target however many
/// makers run, none made while a process migrates.
/// Serialized, on a database of its own: the tests count the spares.
@Suite(.serialized) struct TenantSpareTests {
    static let db = SuiteDatabase()

    /// The spares' ids and schemas, oldest first.
    static func spares(_ pool: PGPool) async throws -> [(id: UUID, schema: String)] {
        try await pool.query("SELECT id, schema_name FROM auth.tenant_spares ORDER BY created_at", []).map {
            (try $0.decode("id", as: UUID.self), try $0.decode("schema_name", as: String.self))
        }
    }

    static func schemaExists(_ schema: String, _ pool: PGPool) async throws -> Bool {
        try await pool.query("SELECT to_regnamespace($1::text) IS NOT NULL AS present", schema).first?.decode("present", as: Bool.self) == true
    }

    static func pending(_ schema: String, _ registry: TenantRegistry, _ pool: PGPool) async throws -> Int {
        try await pool.withConnection { try await registry.migrations.tenant.pendingMigrations(schema: schema, on: $0).count }
    }

    /// Removes every spare, row and schema (each test starts from none, whatever a failed one left).
    static func drain(_ pool: PGPool) async throws {
        for spare in try await spares(pool) { try await drop(spare, pool) }
    }

    static func drop(_ spare: (id: UUID, schema: String), _ pool: PGPool) async throws {
        try await pool.withConnection { lease in
            try await lease.query("DELETE FROM auth.tenant_spares WHERE id = $1", spare.id)
            try await lease.execute("DROP SCHEMA IF EXISTS \(try await lease.escapeIdentifier(spare.schema)) CASCADE")
        }
    }

    @Test func aTenantCreatedWhileASpareIsReadyTakesItsIdAndSchema() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            try await Self.drain(pool)
            #expect(try await registry.makeSpares(upTo: 2) == 2)
            #expect(try await registry.makeSpares(upTo: 2) == 0)
            let spares = try await Self.spares(pool)
            #expect(spares.count == 2)
            for spare in spares { #expect(spare.schema == Tenant.schemaName(for: spare.id)) }

            let tenant = try await registry.create(slug: TestDatabase.uniqueSlug(), name: "Spare")
            #expect(tenant.id == spares[0].id)
            #expect(tenant.schemaName == spares[0].schema)
            #expect(try await Self.spares(pool).map(\.id) == [spares[1].id])
            // Complete: nothing pending, its audit writer in place, its tables usable.
            #expect(try await Self.pending(tenant.schemaName, registry, pool) == 0)
            let writer = try await pool.query(
                "SELECT to_regprocedure(format('%I.%I(auth.events)', $1::text, auth.audit_writer_name($1::text))) IS NOT NULL AS present", tenant.schemaName)
            #expect(try writer.first?.decode("present", as: Bool.self) == true)
            let users = try await registry.db.inTenant(tenant) { tx in
                try await tx.query("SELECT count(*)::int8 AS n FROM users", []).first?.decode("n", as: Int64.self)
            }
            #expect(users == 0)
        }
    }

    @Test func aFailedCreateGivesItsSpareBack() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            try await Self.drain(pool)
            let taken = try await registry.create(slug: TestDatabase.uniqueSlug())
            #expect(try await registry.makeSpares(upTo: 1) == 1)
            let before = try await Self.spares(pool)
            await #expect(throws: AuthError.tenantAlreadyExists) { try await registry.create(slug: taken.slug) }
            #expect(try await Self.spares(pool).map(\.id) == before.map(\.id))
            #expect(try await Self.schemaExists(before[0].schema, pool))
        }
    }

    @Test func aSpareMadeWithOtherFilesIsNeverClaimedAndAnOlderOneIsDropped() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            try await Self.drain(pool)
            #expect(try await registry.makeSpares(upTo: 3) == 3)
            let spares = try await Self.spares(pool)
            // As builds with other files left them: an older one (fewer tenant files), one as new
            // but with a file merged under an older date (only the digest differs), a newer one.
            try await pool.query(
                "UPDATE auth.tenant_spares SET tenant_version = '20000101000000', files_digest = 'older' WHERE id = $1", spares[0].id)
            try await pool.query("UPDATE auth.tenant_spares SET files_digest = 'late-merge' WHERE id = $1", spares[1].id)
            try await pool.query(
                "UPDATE auth.tenant_spares SET global_version = '29990101000000', files_digest = 'newer' WHERE id = $1", spares[2].id)
            #expect(try await registry.spareCount() == 0)

            let tenant = try await registry.create(slug: TestDatabase.uniqueSlug())
            #expect(!spares.map(\.id).contains(tenant.id))
            #expect(try await Self.pending(tenant.schemaName, registry, pool) == 0)

            // The keeper's pass drops the older and the late-merge spare (rows and schemas), leaves
            // the newer one to its own build, and makes none while that one exists (a rolling
            // deploy would otherwise make and drop spares in turn).
            #expect(try await registry.makeSpares(upTo: 1) == 0)
            let after = try await Self.spares(pool).map(\.id)
            #expect(after == [spares[2].id])
            #expect(!(try await Self.schemaExists(spares[0].schema, pool)))
            #expect(!(try await Self.schemaExists(spares[1].schema, pool)))
            #expect(try await Self.schemaExists(spares[2].schema, pool))
            // Once the newer build's spare is gone, this build makes its own.
            try await Self.drop(spares[2], pool)
            #expect(try await registry.makeSpares(upTo: 1) == 1)
            #expect(try await registry.spareCount() == 1)
        }
    }

    @Test func noSpareIsMadeWhileAProcessMigrates() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            try await Self.drain(pool)
            // Returns at once rather than holding a connection until the migration ends.
            let made = try await TestDatabase.whileMigrating(pool) { try await registry.makeSpares(upTo: 2) }
            #expect(made == 0)
            #expect(try await registry.spareCount() == 0)
            #expect(try await registry.makeSpares(upTo: 2) == 2)
        }
    }

    @Test func makersRunningAtOnceStopAtTheTarget() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 6) { pool in
            let registry = try TestDatabase.registry(pool)
            try await Self.drain(pool)
            async let a = registry.makeSpares(upTo: 3)
            async let b = registry.makeSpares(upTo: 3)
            async let c = registry.makeSpares(upTo: 3)
            let made = try await a + b + c
            #expect(made == 3)
            #expect(try await registry.spareCount() == 3)
        }
    }

    @Test func createsAtOnceTakeDifferentSparesOrBuildTheirOwn() async throws {
        let db = try await Self.db.get()
        try await db.withPool(size: 6) { pool in
            let registry = try TestDatabase.registry(pool)
            try await Self.drain(pool)
            #expect(try await registry.makeSpares(upTo: 2) == 2)
            let spareIDs = Set(try await Self.spares(pool).map(\.id))
            let tenants = try await withThrowingTaskGroup(of: Tenant.self) { group in
                for _ in 0..<4 { group.addTask { try await registry.create(slug: TestDatabase.uniqueSlug("burst")) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(tenants.map(\.id)).count == 4)
            #expect(Set(tenants.map(\.id)).intersection(spareIDs) == spareIDs)
            #expect(try await registry.spareCount() == 0)
            for tenant in tenants { #expect(try await Self.schemaExists(tenant.schemaName, pool)) }
        }
    }

    @Test func theKeeperTopsTheSparesUpAndNoFurther() async throws {
        let db = try await Self.db.get()
        try await db.withPool { pool in
            let registry = try TestDatabase.registry(pool)
            try await Self.drain(pool)
            let keeper = TenantSpareKeeper(registry: registry, target: 2, interval: .milliseconds(20), logger: Logger(label: "test"))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await keeper.run() }
                let deadline = ContinuousClock.now + .seconds(30)
                while try await registry.spareCount() < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                #expect(try await registry.spareCount() == 2)
                // A claim is replaced; the keeper never goes past its target.
                _ = try await registry.create(slug: TestDatabase.uniqueSlug())
                let refill = ContinuousClock.now + .seconds(30)
                while try await registry.spareCount() < 2, ContinuousClock.now < refill { try await Task.sleep(for: .milliseconds(20)) }
                try await Task.sleep(for: .milliseconds(200))
                #expect(try await registry.spareCount() == 2)
                group.cancelAll()
            }
        }
    }
}
