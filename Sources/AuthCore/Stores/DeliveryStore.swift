#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PGKit

/// A tenant admin's view of event deliveries (the consumer groups' rows in `auth`), limited to
/// the events of that tenant: what is pending or dead-lettered, and a retry of a dead letter.
public struct DeliveryStore: Sendable {
    public init() {}

    /// Deliveries of the tenant's events, newest first; `status` `pending`, `dead` or `done`.
    public func list(tenantID: UUID, status: String?, group: String?, limit: Int, on db: some PGQueryable) async throws -> [JSONObject] {
        try await db.query(
            """
            SELECT d.group_name, d.event_id, e.type, d.status, d.attempts, d.last_error, d.next_attempt_at, e.occurred_at
            FROM auth.event_deliveries d JOIN auth.events e ON e.id = d.event_id
            WHERE e.tenant_id = $1 AND ($2::text IS NULL OR d.status = $2) AND ($3::text IS NULL OR d.group_name = $3)
            ORDER BY e.occurred_at DESC, d.group_name LIMIT $4
            """, tenantID, status, group, limit
        ).map { row in
            [
                "group": .string(try row.decode("group_name")), "eventId": .string((try row.decode("event_id", as: UUID.self)).uuidString.lowercased()),
                "type": .string(try row.decode("type")), "status": .string(try row.decode("status")),
                "attempts": .int(try row.decode("attempts")),
                "lastError": (try row.decode("last_error", as: String?.self)).map(JSONValue.string) ?? .null,
                "nextAttemptAt": .string(ISO8601.format(try row.decode("next_attempt_at"))),
                "occurredAt": .string(ISO8601.format(try row.decode("occurred_at"))),
            ]
        }
    }

    /// Puts a dead-lettered delivery of one of the tenant's events back in line; false when
    /// there is no such dead letter (or the event is another tenant's).
    public func retry(tenantID: UUID, group: String, event: UUID, on db: some PGQueryable) async throws -> Bool {
        try await db.query(
            """
            UPDATE auth.event_deliveries d SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
            FROM auth.events e
            WHERE e.id = d.event_id AND e.tenant_id = $1 AND d.group_name = $2 AND d.event_id = $3 AND d.status = 'dead'
            """, tenantID, group, event
        ).affectedRows == 1
    }
}
