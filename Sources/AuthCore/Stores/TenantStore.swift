#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// The registry `auth.tenants` and the DDL of tenant schemas (names quoted by libpq).
public struct TenantStore: Sendable {
    public init() {}

    /// Inserts the registry row; 409 `TENANT_ALREADY_EXISTS` on a taken slug.
    public func insert(id: UUID, slug: String, name: String, schema: String, on db: some PGQueryable) async throws -> Tenant {
        let rows: PGRows
        do {
            rows = try await db.query(
                "INSERT INTO auth.tenants (id, slug, name, schema_name) VALUES ($1, $2, $3, $4) RETURNING \(Tenant.columns)",
                id, slug, name, schema)
        } catch let error as PGError where error.isUniqueViolation(constraint: "tenants_slug_key") {
            throw AuthError.tenantAlreadyExists
        }
        guard let row = rows.first else { throw AuthError.internalError("INSERT … RETURNING gave no row") }
        return try Tenant(row: row)
    }

    /// Every tenant, oldest first.
    public func list(on db: some PGQueryable) async throws -> [Tenant] {
        try await db.query("SELECT \(Tenant.columns) FROM auth.tenants ORDER BY created_at, slug", []).map(Tenant.init(row:))
    }

    /// Tenants created at or after `date` (the database's clock), oldest first.
    public func list(createdSince date: Date, on db: some PGQueryable) async throws -> [Tenant] {
        try await db.query("SELECT \(Tenant.columns) FROM auth.tenants WHERE created_at >= $1 ORDER BY created_at, slug", date)
            .map(Tenant.init(row:))
    }

    /// Ids and change times of the tenants changed at or after `date` (the database's clock):
    /// what a process whose broadcasts may have gone astray reads to catch up.
    public func changes(since date: Date, on db: some PGQueryable) async throws -> [UUID: Date] {
        var changed: [UUID: Date] = [:]
        for row in try await db.query("SELECT id, updated_at FROM auth.tenants WHERE updated_at >= $1", date) {
            changed[try row.decode("id", as: UUID.self)] = try row.decode("updated_at", as: Date.self)
        }
        return changed
    }

    public func find(id: UUID, forUpdate: Bool = false, on db: some PGQueryable) async throws -> Tenant? {
        try await db.query("SELECT \(Tenant.columns) FROM auth.tenants WHERE id = $1\(forUpdate ? " FOR UPDATE" : "")", id).first
            .map(Tenant.init(row:))
    }

    public func find(slug: String, on db: some PGQueryable) async throws -> Tenant? {
        try await db.query("SELECT \(Tenant.columns) FROM auth.tenants WHERE slug = $1", slug).first.map(Tenant.init(row:))
    }

    /// Changes a tenant's name and/or status; nil when there is no such tenant.
    public func update(id: UUID, name: String?, status: Tenant.Status?, on db: some PGQueryable) async throws -> Tenant? {
        try await db.query(
            """
            UPDATE auth.tenants SET name = coalesce($2, name), status = coalesce($3, status), updated_at = now()
            WHERE id = $1 RETURNING \(Tenant.columns)
            """, id, name, status?.rawValue
        ).first.map(Tenant.init(row:))
    }

    /// Replaces a tenant's settings (already validated); nil when there is no such tenant.
    public func setSettings(id: UUID, _ settings: JSONObject, on db: some PGQueryable) async throws -> Tenant? {
        try await db.query(
            "UPDATE auth.tenants SET settings = $2, updated_at = now() WHERE id = $1 RETURNING \(Tenant.columns)",
            id, PGBind.jsonb(JSONValue.object(settings).jsonText)
        ).first.map(Tenant.init(row:))
    }

    /// Deletes the registry row of `slug` (locked first); returns the deleted tenant.
    public func delete(slug: String, on db: some PGQueryable) async throws -> Tenant? {
        try await db.query("DELETE FROM auth.tenants WHERE slug = $1 RETURNING \(Tenant.columns)", slug).first.map(Tenant.init(row:))
    }

    /// `CREATE SCHEMA` for a new tenant (inside its creating transaction).
    public func createSchema(_ schema: String, in tx: PGTransaction) async throws {
        let quoted = try await tx.escapeIdentifier(schema)
        try await tx.execute("CREATE SCHEMA \(quoted)")
    }

    /// `DROP SCHEMA … CASCADE`: everything of the tenant, sessions included.
    public func dropSchema(_ schema: String, in tx: PGTransaction) async throws {
        let quoted = try await tx.escapeIdentifier(schema)
        try await tx.execute("DROP SCHEMA IF EXISTS \(quoted) CASCADE")
    }
}
