#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Platform admins and their console sessions, in the global schema. The rules that hold across
/// concurrent requests — bootstrap only while there is no admin, never delete the last one — are
/// taken under one advisory lock, in the statement's transaction.
public struct PlatformAdminStore: Sendable {
    public init() {}

    /// Serialises the changes that count admins (call first in the transaction).
    static func lockAdmins(_ tx: PGTransaction) async throws {
        try await tx.query("SELECT pg_advisory_xact_lock(hashtext('authd.platform_admins'))")
    }

    public func count(on db: some PGQueryable) async throws -> Int {
        try await db.query("SELECT count(*)::int8 AS n FROM auth.platform_admins").first?.decode("n", as: Int.self) ?? 0
    }

    /// Inserts the first admin; nil when one exists already (the bootstrap is closed).
    public func bootstrap(email: String, name: String?, passwordHash: String, in tx: PGTransaction) async throws -> PlatformAdmin? {
        try await Self.lockAdmins(tx)
        guard try await count(on: tx) == 0 else { return nil }
        return try await insert(email: email, name: name, passwordHash: passwordHash, on: tx)
    }

    /// `ADMIN_USER_EXISTS` when the e-mail is taken.
    public func insert(email: String, name: String?, passwordHash: String, on db: some PGQueryable) async throws -> PlatformAdmin {
        let rows = try await db.query(
            """
            INSERT INTO auth.platform_admins (email, name, password_hash) VALUES ($1, $2, $3)
            ON CONFLICT (email) DO NOTHING RETURNING \(PlatformAdmin.columns)
            """, email, name, passwordHash)
        guard let row = rows.first else { throw AuthError(.adminUserExists) }
        return try PlatformAdmin(row: row)
    }

    public func list(on db: some PGQueryable) async throws -> [PlatformAdmin] {
        try await db.query("SELECT \(PlatformAdmin.columns) FROM auth.platform_admins ORDER BY created_at").map { try PlatformAdmin(row: $0) }
    }

    /// The admin and their password hash.
    public func credentials(email: String, on db: some PGQueryable) async throws -> (admin: PlatformAdmin, hash: String)? {
        guard let row = try await db.query(
            "SELECT \(PlatformAdmin.columns), password_hash FROM auth.platform_admins WHERE email = $1", email
        ).first else { return nil }
        return (try PlatformAdmin(row: row), try row.decode("password_hash"))
    }

    public func passwordHash(adminID: UUID, on db: some PGQueryable) async throws -> String? {
        try await db.query("SELECT password_hash FROM auth.platform_admins WHERE id = $1", adminID).first?.decode("password_hash")
    }

    /// Sets the password and ends every console session of the admin.
    public func setPassword(adminID: UUID, hash: String, on db: some PGQueryable) async throws {
        try await db.query(
            "UPDATE auth.platform_admins SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1", adminID, hash)
        try await db.query("UPDATE auth.platform_admin_sessions SET revoked_at = now() WHERE admin_id = $1 AND revoked_at IS NULL", adminID)
    }

    /// Deletes an admin unless it is the last one (`ADMIN_LAST_REMAINING`); false when unknown.
    public func delete(adminID: UUID, in tx: PGTransaction) async throws -> Bool {
        try await Self.lockAdmins(tx)
        guard try await count(on: tx) > 1 else {
            guard try await tx.query("SELECT 1 FROM auth.platform_admins WHERE id = $1", adminID).isEmpty else {
                throw AuthError(.adminLastRemaining)
            }
            return false
        }
        return try await tx.query("DELETE FROM auth.platform_admins WHERE id = $1", adminID).affectedRows == 1
    }

    // MARK: console sessions

    public func openSession(adminID: UUID, digest: [UInt8], lifetime: Duration, ip: String?, userAgent: String?, on db: some PGQueryable)
        async throws
    {
        try await db.query(
            """
            INSERT INTO auth.platform_admin_sessions (admin_id, token_digest, expires_at, ip_address, user_agent)
            VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5)
            """, adminID, PGBind.bytea(digest), lifetime.timeInterval, ip, userAgent)
    }

    /// The admin of a live session (not revoked, not expired by the database's clock).
    public func admin(sessionDigest digest: [UInt8], on db: some PGQueryable) async throws -> (admin: PlatformAdmin, sessionID: UUID)? {
        guard let row = try await db.query(
            """
            UPDATE auth.platform_admin_sessions s SET last_active_at = now()
            FROM auth.platform_admins a
            WHERE s.token_digest = $1 AND s.admin_id = a.id AND s.revoked_at IS NULL AND s.expires_at > now()
            RETURNING s.id AS session_id, a.id, a.email, a.name, a.created_at
            """, PGBind.bytea(digest)
        ).first else { return nil }
        return (try PlatformAdmin(row: row), try row.decode("session_id"))
    }

    public func closeSession(digest: [UInt8], on db: some PGQueryable) async throws {
        try await db.query(
            "UPDATE auth.platform_admin_sessions SET revoked_at = now() WHERE token_digest = $1 AND revoked_at IS NULL", PGBind.bytea(digest))
    }
}
