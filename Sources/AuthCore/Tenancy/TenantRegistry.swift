#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The tenant registry `auth.tenants` and the schema that belongs to each tenant.
///
/// Creating a tenant is one transaction (registry row, `CREATE SCHEMA`, tenant migrations);
/// deleting one drops its schema with everything in it, sessions included.
public struct TenantRegistry: Sendable {
    public let pool: PGPool
    public let migrations: MigrationCatalog

    public init(pool: PGPool, migrations: MigrationCatalog) {
        self.pool = pool
        self.migrations = migrations
    }

    /// Creates a tenant; 400 `INVALID_SLUG_FORMAT` or 409 `TENANT_ALREADY_EXISTS` change nothing.
    public func create(slug rawSlug: String, name: String? = nil) async throws -> Tenant {
        let slug = try TenantSlug(rawSlug)
        let name = try Self.validName(name, slug: slug)
        return try await pool.withTransaction { tx in try await create(slug: slug, name: name, in: tx) }
    }

    /// Creates a tenant inside the caller's transaction.
    public func create(slug: TenantSlug, name: String, in tx: PGTransaction) async throws -> Tenant {
        let id = UUID()
        let schema = Tenant.schemaName(for: id)
        let rows: PGRows
        do {
            rows = try await tx.query(
                "INSERT INTO auth.tenants (id, slug, name, schema_name) VALUES ($1, $2, $3, $4) RETURNING \(Tenant.columns)",
                id, slug.value, name, schema)
        } catch let error as PGError where error.isUniqueViolation(constraint: "tenants_slug_key") {
            throw AuthError.tenantAlreadyExists
        }
        guard let row = rows.first else { throw PGError(.decoding, "INSERT … RETURNING gave no row") }
        let quoted = try await tx.escapeIdentifier(schema)
        try await tx.execute("CREATE SCHEMA \(quoted)")
        try await migrations.tenant.migrate(schema: schema, in: tx)
        return try Tenant(row: row)
    }

    /// Every tenant, oldest first.
    public func list() async throws -> [Tenant] {
        try await pool.query("SELECT \(Tenant.columns) FROM auth.tenants ORDER BY created_at, slug").map(Tenant.init(row:))
    }

    /// The tenant named by its uuid or its slug, or nil.
    public func find(_ idOrSlug: String) async throws -> Tenant? {
        let rows: PGRows
        if let id = UUID(uuidString: idOrSlug) {
            rows = try await pool.query("SELECT \(Tenant.columns) FROM auth.tenants WHERE id = $1", id)
        } else {
            guard let slug = try? TenantSlug(idOrSlug) else { return nil }
            rows = try await pool.query("SELECT \(Tenant.columns) FROM auth.tenants WHERE slug = $1", slug.value)
        }
        return try rows.first.map(Tenant.init(row:))
    }

    /// Deletes a tenant and drops its schema; 404 when unknown, 409 for the default tenant.
    public func delete(slug rawSlug: String) async throws {
        let slug = try TenantSlug(rawSlug)
        guard slug != .defaultTenant else { throw AuthError.tenantProtected }
        try await pool.withTransaction { tx in
            let rows = try await tx.query(
                "SELECT schema_name FROM auth.tenants WHERE slug = $1 FOR UPDATE", slug.value)
            guard let row = rows.first else { throw AuthError.tenantNotFound }
            let schema: String = try row.decode("schema_name")
            let quoted = try await tx.escapeIdentifier(schema)
            try await tx.execute("DROP SCHEMA IF EXISTS \(quoted) CASCADE")
            let id = try await tx.query("DELETE FROM auth.tenants WHERE slug = $1 RETURNING id", slug.value).first?.decode("id", as: UUID.self)
            // Delivered at COMMIT to every running authd: its cached tenant and principals go at once
            // (a process that misses it stops trusting its caches within the directory's TTL).
            if let id {
                try await tx.query(
                    "SELECT pg_notify($1, $2)", RevocationBroadcaster.channel, RevocationSet.tenantPrefix + id.uuidString.lowercased())
            }
        }
    }

    /// Runs `body` in a transaction whose `search_path` is the tenant's schema only, for this
    /// transaction only (`set_config(…, true)`), so nothing leaks to the pooled connection.
    @discardableResult
    public func withTenantTransaction<T>(
        _ tenant: Tenant, isolation: PGIsolationLevel = .readCommitted,
        _ body: (PGTransaction) async throws -> T
    ) async throws -> T {
        try await pool.withTransaction(isolation: isolation, searchPath: tenant.schemaName, body)
    }

    /// A tenant transaction run on one pool thread (see `PGPool.withBlockingTransaction`).
    public func withTenantBlockingTransaction<T: Sendable>(
        _ tenant: Tenant, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await pool.withBlockingTransaction(searchPath: tenant.schemaName, body)
    }

    /// A read-only tenant transaction run on one pool thread (see `PGPool.withBlockingReadTransaction`).
    public func withTenantReadTransaction<T: Sendable>(
        _ tenant: Tenant, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await pool.withBlockingReadTransaction(searchPath: tenant.schemaName, body)
    }

    static func validName(_ name: String?, slug: TenantSlug) throws -> String {
        guard let name else { return slug.value }
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else {
            throw AuthError.invalidInput("name", "must be 1–200 characters")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw AuthError.invalidInput("name", "must not contain control characters")
        }
        return trimmed
    }
}
