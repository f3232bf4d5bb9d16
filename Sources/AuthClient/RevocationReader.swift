import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// Reads `auth.revocations` and `auth.tenants` on one connection of its own (a read-only role
/// with SELECT on those two tables is enough). libpq blocks, so every call runs on a private
/// serial queue, never on the cooperative pool; a failed statement drops the connection and the
/// next read reconnects.
final class RevocationReader: @unchecked Sendable {
    /// What one read found, stamped with the database's clock.
    struct Read: Sendable {
        var revoked: [UUID: Date]
        /// Every tenant and whether it is active; nil when tenants were not read this time.
        var tenants: [UUID: Bool]?
        var readAt: Date
    }

    let conninfo: String
    private let queue = DispatchQueue(label: "authclient.revocation-reader")
    /// Touched only on `queue`.
    private var connection: PGConnection?

    init(conninfo: String) {
        self.conninfo = conninfo
    }

    /// Revocations recorded since `since` (all of them when nil) that still matter, and, when
    /// `tenants`, the tenant list.
    func read(since: Date?, tenants: Bool) async throws -> Read {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.readBlocking(since: since, tenants: tenants) })
            }
        }
    }

    private func readBlocking(since: Date?, tenants: Bool) throws -> Read {
        do {
            let conn: PGConnection
            if let connection {
                conn = connection
            } else {
                conn = try PGConnection(conninfo: conninfo, preparedStatements: 0)
                _ = try conn.execute("SET statement_timeout = '5s'")
                connection = conn
            }
            let rows = try conn.query(
                """
                SELECT session_id, expires_at, now() AS read_at FROM auth.revocations
                WHERE expires_at > now() AND ($1::timestamptz IS NULL OR revoked_at >= $1)
                UNION ALL SELECT NULL, NULL, now()
                """, [since.pgBind], prepare: false)
            var read = Read(revoked: [:], tenants: nil, readAt: Date())
            for row in rows {
                read.readAt = try row.decode("read_at")
                if let id = try row.decode("session_id", as: UUID?.self) { read.revoked[id] = try row.decode("expires_at") }
            }
            if tenants {
                var all: [UUID: Bool] = [:]
                for row in try conn.query("SELECT id, status = 'active' AS active FROM auth.tenants", [], prepare: false) {
                    all[try row.decode("id")] = try row.decode("active")
                }
                read.tenants = all
            }
            return read
        } catch {
            connection = nil
            throw error
        }
    }
}
