#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `auth.tenant_spares`: tenant schemas made ahead of need (see `TenantSpareKeeper`).
public struct TenantSpareStore: Sendable {
    /// The advisory lock one spare maker holds at a time (`authd serve` replicas would otherwise
    /// each top the spares up, and overshoot).
    static let makerLockKey: Int64 = 0x6175_7468_7370_6172

    public init() {}

    /// Takes the oldest spare nobody else is taking (SKIP LOCKED: concurrent creates take
    /// different spares, or none) and deletes its row; a rollback gives it back.
    public func claim(on tx: PGTransaction) async throws -> (id: UUID, schema: String)? {
        let rows = try await tx.query(
            """
            DELETE FROM auth.tenant_spares WHERE id = (
                SELECT id FROM auth.tenant_spares ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, schema_name
            """, [])
        guard let row = rows.first else { return nil }
        return (try row.decode("id", as: UUID.self), try row.decode("schema_name", as: String.self))
    }

    /// Records a spare made in `tx`.
    public func insert(id: UUID, schema: String, on tx: PGTransaction) async throws {
        try await tx.query("INSERT INTO auth.tenant_spares (id, schema_name) VALUES ($1, $2)", id, schema)
    }

    /// How many spares there are.
    public func count(on db: some PGQueryable) async throws -> Int {
        try await db.query("SELECT count(*) AS n FROM auth.tenant_spares", []).first?.decode("n", as: Int.self) ?? 0
    }

    /// The maker lock for the rest of `tx`, if no one else holds it.
    public func tryLockMaker(on tx: PGTransaction) async throws -> Bool {
        try await tx.query("SELECT pg_try_advisory_xact_lock($1) AS locked", Self.makerLockKey).first?.decode("locked", as: Bool.self) ?? false
    }
}
