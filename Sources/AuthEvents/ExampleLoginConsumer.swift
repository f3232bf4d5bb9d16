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
///    retried (once per event: the row is keyed by the event id). authd itself already wrote
///    the login's row in the login's transaction (requirement 23), so on a current schema this
///    insert finds it there and adds nothing; the step stays as the seed's example of a
///    delivery that must succeed.
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
        let store = LoginAuditStore()
        try await registry.db.inTenant(tenant) { tx in
            // 1. Best effort: a failed last-login update must not lose the audit row.
            // Only when the application's table has the column (no DDL from a consumer).
            if try await store.hasLastLoginColumn(on: tx),
               let error = try await store.stampLastLogin(userID: userID, at: event.occurredAt, in: tx)
            {
                logger.warning("last-login update failed", metadata: ["user": "\(userID)", "error": "\(error)"])
            }
            // 3. The audit row, idempotent per event.
            try await store.insertLogin(
                eventID: event.id, userID: userID, sessionID: sessionID, ip: event.data["ip"]?.stringValue,
                userAgent: event.data["userAgent"]?.stringValue, data: ["provider": event.data["provider"] ?? .null], on: tx)
        }
        // 2. Fire-and-forget, after the audit row is safe.
        let syncLogger = logger
        roleSync.enqueue {
            syncLogger.info("role sync requested", metadata: ["user": "\(userID)", "tenant": "\(tenant.slug)"])
        }
    }
}
