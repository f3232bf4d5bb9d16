import AuthCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import PGKit

/// The seed page's login listener (`000_…txt`) as an `authd listen` consumer of
/// `auth.logged_in`, against the tenant's schema:
/// 1. last login: stamps `app_profiles.last_login_at` when the application has that table;
/// 2. role sync: hands the user to a background sync, fire-and-forget (a failure is logged and
///    never blocks the login or the delivery);
/// 3. audit: writes an `audit_log` row — the only step whose failure fails the delivery, so it is
///    retried (once per event: the row is keyed by the event id).
public struct ExampleLoginConsumer: Sendable {
    let registry: TenantRegistry
    let roleSync: AfterCommitQueue
    let logger: Logger

    public init(registry: TenantRegistry, roleSync: AfterCommitQueue, logger: Logger) {
        self.registry = registry
        self.roleSync = roleSync
        self.logger = logger
    }

    public func handler() -> EventConsumer.Handler {
        { event in try await handle(event) }
    }

    func handle(_ event: EventEnvelope) async throws {
        guard event.type == AuthEvent.Name.loggedIn.rawValue, let tenantID = event.tenantID,
              let tenant = try await registry.find(tenantID.uuidString),
              let userText = event.actor["id"]?.stringValue, let userID = UUID(uuidString: userText),
              let sessionText = event.subject["id"]?.stringValue, let sessionID = UUID(uuidString: sessionText)
        else { return }
        try await registry.withTenantTransaction(tenant) { tx in
            // 1. Best effort: a failed last-login update must not lose the audit row.
            // Only when the application's table has the column (no DDL from a consumer).
            let hasColumn = try await tx.query(
                """
                SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('app_profiles')
                               AND attname = 'last_login_at' AND NOT attisdropped) AS present
                """).first?.decode("present", as: Bool.self) == true
            if hasColumn {
                try await tx.query("SAVEPOINT last_login")
                do {
                    try await tx.query("UPDATE app_profiles SET last_login_at = $2 WHERE auth_user_id = $1", userID, event.occurredAt)
                    try await tx.query("RELEASE SAVEPOINT last_login")
                } catch {
                    try await tx.query("ROLLBACK TO SAVEPOINT last_login")
                    logger.warning("last-login update failed", metadata: ["user": "\(userID)", "error": "\(error)"])
                }
            }
            // 3. The audit row, idempotent per event.
            try await tx.query(
                """
                INSERT INTO audit_log (event_id, kind, user_id, session_id, ip_address, user_agent, data)
                VALUES ($1, 'login', $2, $3, $4, $5, $6) ON CONFLICT (event_id) DO NOTHING
                """, event.id, userID, sessionID, event.data["ip"]?.stringValue, event.data["userAgent"]?.stringValue,
                PGBind.jsonb(JSONValue.object(["provider": event.data["provider"] ?? .null]).jsonText))
        }
        // 2. Fire-and-forget, after the audit row is safe.
        let syncLogger = logger
        roleSync.enqueue {
            syncLogger.info("role sync requested", metadata: ["user": "\(userID)", "tenant": "\(tenant.slug)"])
        }
    }
}
