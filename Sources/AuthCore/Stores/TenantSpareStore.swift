#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `auth.tenant_spares`: tenant schemas made ahead of need (see `TenantSpareKeeper`), each
/// stamped with the migration files of the build that made it.
public struct TenantSpareStore: Sendable {
    /// The files a spare was made with: a digest of all of them (what must match to claim it)
    /// and the newest version of each catalog (which build is newer).
    public struct Files: Sendable, Equatable {
        public var digest: String
        public var global: String
        public var tenant: String

        public init(digest: String, global: String, tenant: String) {
            self.digest = digest
            self.global = global
            self.tenant = tenant
        }
    }

    /// The advisory lock one spare maker holds at a time (`authd serve` replicas would otherwise
    /// each top the spares up, and overshoot).
    static let makerLockKey: Int64 = 0x6175_7468_7370_6172

    public init() {}

    /// Takes the oldest spare made with `files` that nobody else is taking (SKIP LOCKED:
    /// concurrent creates take different spares, or none) and deletes its row; a rollback gives
    /// it back.
    public func claim(files: Files, on tx: PGTransaction) async throws -> (id: UUID, schema: String)? {
        let rows = try await tx.query(
            """
            DELETE FROM auth.tenant_spares WHERE id = (
                SELECT id FROM auth.tenant_spares WHERE files_digest = $1
                ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING id, schema_name
            """, files.digest)
        guard let row = rows.first else { return nil }
        return (try row.decode("id", as: UUID.self), try row.decode("schema_name", as: String.self))
    }

    /// Records a spare made in `tx`.
    public func insert(id: UUID, schema: String, files: Files, on tx: PGTransaction) async throws {
        try await tx.query(
            """
            INSERT INTO auth.tenant_spares (id, schema_name, files_digest, global_version, tenant_version)
            VALUES ($1, $2, $3, $4, $5)
            """, id, schema, files.digest, files.global, files.tenant)
    }

    /// How many spares made with `files` there are.
    public func count(files: Files, on db: some PGQueryable) async throws -> Int {
        try await db.query("SELECT count(*) AS n FROM auth.tenant_spares WHERE files_digest = $1", files.digest)
            .first?.decode("n", as: Int.self) ?? 0
    }

    /// Removes the row of one spare made with other files by a build no newer than `files`
    /// (nobody else holding it) and returns its schema, to be dropped in the same transaction;
    /// nil when there is none.
    public func takeStale(for files: Files, on tx: PGTransaction) async throws -> String? {
        try await tx.query(
            """
            DELETE FROM auth.tenant_spares WHERE id = (
                SELECT id FROM auth.tenant_spares
                WHERE files_digest <> $1 AND (global_version, tenant_version) <= ($2::text, $3::text)
                ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)
            RETURNING schema_name
            """, files.digest, files.global, files.tenant
        ).first?.decode("schema_name", as: String.self)
    }

    /// Whether a spare made by a newer build exists (this build then makes none: during a
    /// rolling deploy the two would otherwise make and drop spares in turn).
    public func newerExists(than files: Files, on db: some PGQueryable) async throws -> Bool {
        try await db.query(
            """
            SELECT EXISTS (SELECT 1 FROM auth.tenant_spares
                WHERE (global_version, tenant_version) > ($1::text, $2::text)) AS newer
            """, files.global, files.tenant
        ).first?.decode("newer", as: Bool.self) ?? false
    }

    /// The maker lock for the rest of `tx`, if no one else holds it.
    public func tryLockMaker(on tx: PGTransaction) async throws -> Bool {
        try await tx.query("SELECT pg_try_advisory_xact_lock($1) AS locked", Self.makerLockKey).first?.decode("locked", as: Bool.self) ?? false
    }
}
