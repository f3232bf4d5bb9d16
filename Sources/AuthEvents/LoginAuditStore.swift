#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import AuthCore
import PGKit

/// The example login listener's writes in a tenant's schema: the application's own
/// `app_profiles` (when it has the column) and the tenant's `audit_log`.
struct LoginAuditStore: Sendable {
    /// True when the application's `app_profiles` table has a `last_login_at` column.
    func hasLastLoginColumn(on db: some PGQueryable) async throws -> Bool {
        try await db.query(
            """
            SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('app_profiles')
                           AND attname = 'last_login_at' AND NOT attisdropped) AS present
            """, []
        ).first?.decode("present", as: Bool.self) == true
    }

    /// Stamps the application profile's last login, inside a savepoint: its failure must not
    /// undo the transaction's other work. Returns the error it swallowed, if any.
    func stampLastLogin(userID: UUID, at time: Date, in tx: PGTransaction) async throws -> (any Error)? {
        try await tx.query("SAVEPOINT last_login", [])
        do {
            try await tx.query("UPDATE app_profiles SET last_login_at = $2 WHERE auth_user_id = $1", userID, time)
            try await tx.query("RELEASE SAVEPOINT last_login", [])
            return nil
        } catch {
            try await tx.query("ROLLBACK TO SAVEPOINT last_login", [])
            return error
        }
    }

    /// The audit row of a login event, once per event (keyed by its id).
    func insertLogin(
        eventID: UUID, userID: UUID, sessionID: UUID, ip: String?, userAgent: String?, data: JSONObject, on db: some PGQueryable
    ) async throws {
        try await db.query(
            """
            INSERT INTO audit_log (event_id, kind, user_id, session_id, ip_address, user_agent, data)
            VALUES ($1, 'login', $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING
            """, eventID, userID, sessionID, ip, userAgent, PGBind.jsonb(JSONValue.object(data).jsonText))
    }
}
