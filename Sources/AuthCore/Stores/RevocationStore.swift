#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// `auth.revocations`: revoked sessions, kept while access tokens naming them can still be
/// presented, so a process that missed a broadcast can reload them (DESIGN.md §5).
public struct RevocationStore: Sendable {
    /// What a read found, and the database's clock when it read (the next read's watermark).
    public struct Read: Sendable {
        public var revoked: [UUID: Date]
        public var readAt: Date
    }

    public init() {}

    /// Records a revoked session, kept `keep` from now (by the database's clock).
    public func insert(sessionID: UUID, tenantID: UUID, keep: Duration, on db: some PGQueryable) async throws {
        try await db.query(
            """
            INSERT INTO auth.revocations (session_id, tenant_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))
            ON CONFLICT (session_id) DO NOTHING
            """, sessionID, tenantID, keep.timeInterval)
    }

    /// Every revocation whose tokens may still be presented, or (`since`) only those recorded
    /// after that time of the database's clock.
    public func load(since: Date? = nil, on db: some PGQueryable) async throws -> Read {
        let rows = try await db.query(
            """
            SELECT session_id, expires_at, now() AS read_at FROM auth.revocations
            WHERE expires_at > now() AND ($1::timestamptz IS NULL OR revoked_at >= $1)
            UNION ALL SELECT NULL, NULL, now()
            """, since)
        var revoked: [UUID: Date] = [:]
        var readAt = Date()
        for row in rows {
            readAt = try row.decode("read_at")
            if let id = try row.decode("session_id", as: UUID?.self) { revoked[id] = try row.decode("expires_at") }
        }
        return Read(revoked: revoked, readAt: readAt)
    }

    /// Deletes rows whose tokens have all expired.
    @discardableResult
    public func prune(on db: some PGQueryable) async throws -> Int {
        try await db.query("DELETE FROM auth.revocations WHERE expires_at < now() - interval '1 hour'", []).affectedRows
    }
}
